{{/* Name of every object: the release name, unless overridden. */}}
{{- define "ixstream.fullname" -}}
{{- default .Release.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The recommended labels (common-labels.md). */}}
{{- define "ixstream.labels" -}}
app.kubernetes.io/name: ixstream
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ixstream.selector" -}}
app.kubernetes.io/name: ixstream
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ixstream.secretName" -}}
{{- default (printf "%s-secrets" (include "ixstream.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "ixstream.turnUris" -}}
{{- $h := .Values.turn.publicHost -}}{{- $p := .Values.turn.port -}}
{{- $uris := list (printf "turn:%s:%v?transport=udp" $h $p) (printf "turn:%s:%v?transport=tcp" $h $p) -}}
{{- if .Values.turn.tls.enabled -}}
{{- $uris = append $uris (printf "turns:%s:%v?transport=tcp" $h .Values.turn.tls.port) -}}
{{- end -}}
{{- $uris | toJson -}}
{{- end -}}

{{/* The claim a store (`library` or `records`) mounts: its existingClaim, or the one the
     chart creates. Call with (list $ "library"). */}}
{{- define "ixstream.claimName" -}}
{{- $root := index . 0 -}}{{- $store := index . 1 -}}
{{- $p := (index $root.Values $store).persistence -}}
{{- default (printf "%s-%s" (include "ixstream.fullname" $root) $store) $p.existingClaim -}}
{{- end -}}

{{/* The pod volume of a store: its claim, or an emptyDir when persistence is off. */}}
{{- define "ixstream.storeVolume" -}}
{{- $root := index . 0 -}}{{- $store := index . 1 -}}
{{- $p := (index $root.Values $store).persistence -}}
- name: {{ $store }}
{{- if $p.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "ixstream.claimName" . }}
{{- else }}
  emptyDir:
    sizeLimit: {{ $p.size }}
{{- end }}
{{- end -}}

{{/* True (non-empty) when a store mounts a volume only one node (or pod) can write. */}}
{{- define "ixstream.singleWriter" -}}
{{- range $store := list "library" "records" -}}
{{- $p := (index $.Values $store).persistence -}}
{{- if and $p.enabled (ne $p.accessMode "ReadWriteMany") }}{{ $store }} {{ end -}}
{{- end -}}
{{- end -}}
