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
{{- list (printf "turn:%s:%v?transport=udp" $h $p) (printf "turn:%s:%v?transport=tcp" $h $p) | toJson -}}
{{- end -}}
