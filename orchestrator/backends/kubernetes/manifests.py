"""What the Kubernetes backend writes to the API, as pure functions of settings.

Labels select (api-conventions.md: labels are for selection, annotations for
everything else); annotations carry what a restarted orchestrator needs to rebuild its
view: the streamer profile, the bound session, who claimed it and when. The labels:

- `app.kubernetes.io/{name,component,instance,managed-by}`: the recommended labels
  (common-labels.md); `instance` keeps two installations in one namespace apart;
- `ixstream.io/state`: `warm` until claimed, then `bound` (Agones' Ready → Allocated);
- `ixstream.io/profile`: a hash of the profile, so warm pods of one profile are one
  label selector away;
- `ixstream.io/session`: the bound session id, when it is a valid label value
  (orchestrator ids `s-<hex>` always are), for `kubectl get pods -l`.

The key a streamer verifies session tokens with is derived from the pod's name
(`keys`) and handed to the container through its own Secret `<pod>-key`
(`secretKeyRef`): never in the pod spec, where anyone who may read pods would see it.
The pod's name is chosen by the backend, so the Secret can be created after the pod,
already owned by it (garbage-collection.md): it never exists without its owner and goes
when the pod goes. The kubelet holds the container back until the Secret exists.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from orchestrator.backends.base import StreamerProfile
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.backends.streamer_command import (
    ICE_ENV,
    KEY_ENV,
    SUBCOMMAND,
    cors_env,
    streamer_command,
)

Manifest = dict[str, Any]

NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
INSTANCE = "app.kubernetes.io/instance"
MANAGED_BY = "app.kubernetes.io/managed-by"
STATE = "ixstream.io/state"
PROFILE = "ixstream.io/profile"
SESSION = "ixstream.io/session"
STREAMER_ID = "ixstream.io/streamer-id"

PROFILE_ANNOTATION = "ixstream.io/profile"
SESSION_ANNOTATION = "ixstream.io/session-id"
CLAIMED_BY_ANNOTATION = "ixstream.io/claimed-by"
CLAIMED_AT_ANNOTATION = "ixstream.io/claimed-at"
#: The cluster autoscaler removes a node only if every pod on it may move; a pod with
#: no controller may not, unless this annotation says `"true"` (cluster-autoscaler
#: FAQ, "What types of pods can prevent CA from removing a node?"). Warm pods may go
#: (the pool starts another elsewhere); a pod serving a session may not.
SAFE_TO_EVICT_ANNOTATION = "cluster-autoscaler.kubernetes.io/safe-to-evict"

WARM, BOUND = "warm", "bound"
MANAGER = "ixstream-orchestrator"
CONTAINER = "streamer"
SECRET_KEY_FIELD = "key"
#: The random part of a pod name: what `generateName` appends (5 characters, from
#: apimachinery's alphabet of consonants and digits that spell no words).
NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAME_SUFFIX_LENGTH = 5
#: `generateName` keeps a prefix to 58 characters, so the name fits a DNS label.
MAX_NAME_PREFIX = 63 - NAME_SUFFIX_LENGTH
UNREACHABLE_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")


def profile_hash(profile: StreamerProfile) -> str:
    """A stable label value for a profile (sha256 of its canonical JSON, 16 hex)."""
    canonical = json.dumps(profile.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _valid_label_value(value: str) -> bool:
    return (
        0 < len(value) <= 63
        and value[0].isalnum()
        and value[-1].isalnum()
        and all(c.isalnum() or c in "-_." for c in value)
    )


def base_labels(settings: KubernetesSettings, component: str = "streamer") -> dict[str, str]:
    return {
        NAME: "ixstream",
        COMPONENT: component,
        INSTANCE: settings.instance,
        MANAGED_BY: MANAGER,
    }


def managed_selector(settings: KubernetesSettings, component: str = "streamer") -> str:
    """The label selector of everything this installation manages of `component`."""
    return ",".join(f"{k}={v}" for k, v in sorted(base_labels(settings, component).items()))


def session_labels(session_id: str | None) -> dict[str, str]:
    if session_id is None:
        return {STATE: WARM}
    labels = {STATE: BOUND}
    if _valid_label_value(session_id):
        labels[SESSION] = session_id
    return labels


def streamer_pod_name(settings: KubernetesSettings, suffix: str) -> str:
    """A streamer pod's name: what `generateName` would make, chosen client-side so
    that the key and its Secret's name are known before the pod is created."""
    return f"{settings.instance}-streamer-"[:MAX_NAME_PREFIX] + suffix


def key_secret_name(pod_name: str) -> str:
    return f"{pod_name}-key"


def key_secret(settings: KubernetesSettings, pod: Manifest, key: str) -> Manifest:
    """The Secret holding one streamer's token key, created after its pod and owned by
    it from birth (`pod` is the API's answer to the create: it carries the uid)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": key_secret_name(pod["metadata"]["name"]),
            "labels": base_labels(settings, "streamer-key"),
            "ownerReferences": [owner_reference(pod)],
        },
        "type": "Opaque",
        "data": {SECRET_KEY_FIELD: base64.b64encode(key.encode()).decode()},
    }


def owner_reference(pod: Manifest) -> Manifest:
    """Make an object a dependent of `pod` (garbage-collection.md). Not blocking the
    owner's deletion: a pod must go at once, its dependents in the background."""
    meta = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": meta["name"],
        "uid": meta["uid"],
        "blockOwnerDeletion": False,
    }


def safe_to_evict(session_id: str | None) -> str:
    """The autoscaler's `safe-to-evict` value: a warm pod is, a bound one is not."""
    return "true" if session_id is None else "false"


def streamer_args(
    settings: KubernetesSettings, profile: StreamerProfile, session_id: str | None
) -> list[str]:
    """The streamer's arguments after the image's entrypoint (`streamer_command`)."""
    return streamer_command(
        (SUBCOMMAND,),
        profile,
        session_id,
        host=settings.listen_host,
        port=settings.port,
        metrics_port=settings.metrics_port,
        ice_hosts=("$(POD_IP)",) if settings.ice_host_from_pod_ip else (),
        extra_args=settings.extra_args,
    )


def _resources(settings: KubernetesSettings) -> Manifest:
    requests: dict[str, str] = {"cpu": settings.cpu_request, "memory": settings.memory_request}
    limits: dict[str, str] = {}
    if settings.cpu_limit:
        limits["cpu"] = settings.cpu_limit
    if settings.memory_limit:
        limits["memory"] = settings.memory_limit
    if settings.gpu_resource and settings.gpu_count:
        # Extended resources cannot be overcommitted: request equals limit.
        requests[settings.gpu_resource] = limits[settings.gpu_resource] = str(settings.gpu_count)
    return {"requests": requests, "limits": limits} if limits else {"requests": requests}


def _tolerations(settings: KubernetesSettings) -> list[Manifest]:
    tolerations = [dict(t) for t in settings.tolerations]
    for taint in UNREACHABLE_TAINTS:
        tolerations.append(
            {
                "key": taint,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": settings.node_lost_toleration_s,
            }
        )
    return tolerations


def streamer_pod(
    settings: KubernetesSettings,
    profile: StreamerProfile,
    session_id: str | None,
    *,
    name: str,
    ice_servers_json: str,
    streamer_id: str | None = None,
    cors_origins: Sequence[str] = (),
) -> Manifest:
    """One streamer pod named `name` (`streamer_pod_name`): GPU request, scheduling
    constraints, hardening, probes; its key from the Secret `key_secret_name(name)`."""
    env = _streamer_env(settings, name, ice_servers_json, cors_origins)
    container = _streamer_container(settings, streamer_args(settings, profile, session_id), env)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _pod_metadata(settings, profile, session_id, name, streamer_id),
        "spec": _pod_spec(settings, container),
    }


def _pod_metadata(
    settings: KubernetesSettings,
    profile: StreamerProfile,
    session_id: str | None,
    name: str,
    streamer_id: str | None,
) -> Manifest:
    """Labels and annotations are the source of truth (DESIGN.md §3): the profile to
    match warm pods on, the session a pod serves, and its id for per-pod Services."""
    labels = {**base_labels(settings), **session_labels(session_id), PROFILE: profile_hash(profile)}
    if streamer_id is not None:
        labels[STREAMER_ID] = streamer_id
    annotations = {
        PROFILE_ANNOTATION: json.dumps(profile.to_json(), sort_keys=True),
        SAFE_TO_EVICT_ANNOTATION: safe_to_evict(session_id),
    }
    if session_id is not None:
        annotations[SESSION_ANNOTATION] = session_id
    return {"name": name, "labels": labels, "annotations": annotations}


def _streamer_env(
    settings: KubernetesSettings, name: str, ice_servers_json: str, cors_origins: Sequence[str]
) -> list[Manifest]:
    """The key from the pod's own Secret (never a literal in the spec), ICE servers, the
    orchestrator's allowed origins (so the pod's WHEP URL admits the same pages), and
    the operator's extra variables."""
    key_ref = {"secretKeyRef": {"name": key_secret_name(name), "key": SECRET_KEY_FIELD}}
    env: list[Manifest] = [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": KEY_ENV, "valueFrom": key_ref},
        {"name": ICE_ENV, "value": ice_servers_json},
    ]
    env += [{"name": k, "value": v} for k, v in cors_env(cors_origins).items()]
    env += [{"name": k, "value": v} for k, v in sorted(settings.streamer_env.items())]
    return env


def _streamer_container(
    settings: KubernetesSettings, args: list[str], env: list[Manifest]
) -> Manifest:
    """The streamer container: named ports (a PodMonitor scrapes `metrics`, a
    NetworkPolicy tells them apart), probes on the main port, no privileges."""
    probe_port = "http"
    return {
        "name": CONTAINER,
        "image": settings.image,
        "imagePullPolicy": settings.image_pull_policy,
        "args": args,
        "env": env,
        "ports": [
            {"name": "http", "containerPort": settings.port, "protocol": "TCP"},
            {"name": "metrics", "containerPort": settings.metrics_port, "protocol": "TCP"},
        ],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": probe_port},
            "periodSeconds": 1,
            "timeoutSeconds": 1,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": probe_port},
            "periodSeconds": 10,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        },
        "resources": _resources(settings),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _pod_spec(settings: KubernetesSettings, container: Manifest) -> Manifest:
    """Never restarted (a crashed streamer fails its session), no API token, a
    non-root user, and the operator's scheduling choices."""
    spec: Manifest = {
        "restartPolicy": "Never",  # a crashed streamer fails its session; it is not revived
        "terminationGracePeriodSeconds": settings.stop_grace_s,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "tolerations": _tolerations(settings),
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }
    if settings.service_account:
        spec["serviceAccountName"] = settings.service_account
    if settings.node_selector:
        spec["nodeSelector"] = dict(settings.node_selector)
    if settings.runtime_class_name:
        spec["runtimeClassName"] = settings.runtime_class_name
    if settings.priority_class_name:
        spec["priorityClassName"] = settings.priority_class_name
    if settings.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in settings.image_pull_secrets]
    if settings.host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    return spec


def streamer_service(settings: KubernetesSettings, pod: Manifest) -> Manifest:
    """A ClusterIP Service for one streamer pod, owned by it (signalling = service)."""
    streamer_id = pod["metadata"]["labels"][STREAMER_ID]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service_name(settings, streamer_id),
            "labels": base_labels(settings, "streamer-service"),
            "ownerReferences": [owner_reference(pod)],
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {STREAMER_ID: streamer_id},
            "ports": [{"name": "http", "port": settings.port, "targetPort": "http"}],
        },
    }


def service_name(settings: KubernetesSettings, streamer_id: str) -> str:
    return f"{settings.instance}-st-{streamer_id}"


def claim_patch(
    resource_version: str, session_id: str, *, claimed_by: str, claimed_at: float
) -> Manifest:
    """The merge patch that binds a warm pod to a session.

    It carries the resourceVersion the claimer read: the API server applies it only if
    the pod is unchanged since, else answers 409 Conflict (api-conventions.md,
    "Concurrency Control and Consistency"). That makes the claim a compare-and-swap.
    The same write makes the pod unsafe to evict for the cluster autoscaler, so no
    moment exists where a pod serves a session and its node may be scaled down.
    """
    labels: dict[str, str | None] = {STATE: BOUND, **session_labels(session_id)}
    return {
        "metadata": {
            "resourceVersion": resource_version,
            "labels": labels,
            "annotations": {
                SESSION_ANNOTATION: session_id,
                CLAIMED_BY_ANNOTATION: claimed_by,
                CLAIMED_AT_ANNOTATION: f"{claimed_at:.3f}",
                SAFE_TO_EVICT_ANNOTATION: safe_to_evict(session_id),
            },
        }
    }
