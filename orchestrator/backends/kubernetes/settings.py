"""Settings of the Kubernetes backend: what a streamer pod looks like and how it is
reached, claimed and stopped.

A pydantic model, meant to be nested in `OrchestratorSettings` (so the orchestrator
keeps one settings object, read from `IXS_ORCH_KUBERNETES__*` with pydantic-settings'
nested delimiter) and rendered by the Helm chart from `values.yaml`. Every field says
its unit and why it exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from orchestrator.key_strength import GENERATE_HINT, MIN_SECRET_BYTES, key_weakness

#: Fields that moved to `IXS_ORCH_ICE__*` (orchestrator/ice/settings.py) when browsers got
#: ICE servers too: one TURN configuration for both backends. Old name -> new name.
MOVED_TO_ICE = {
    "ice_servers": "IXS_ORCH_ICE__SERVERS",
    "turn_uris": "IXS_ORCH_ICE__TURN_URIS",
    "turn_secret": "IXS_ORCH_ICE__TURN_SECRET",
    "turn_ttl_s": "IXS_ORCH_ICE__TURN_TTL_S",
}


class KubernetesSettings(BaseModel):
    # hide_input_in_errors: a refused seed is never echoed in the error.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    # --- the API server
    kubeconfig: Path | None = Field(
        None,
        description="Kubeconfig file; unset: the in-cluster service account "
        "(`/var/run/secrets/kubernetes.io/serviceaccount`).",
    )
    context: str | None = Field(None, description="Kubeconfig context; unset: the current one.")
    namespace: str = Field("ixstream", description="Namespace of streamer pods (and only it).")
    instance: str = Field(
        "ixstream",
        description="`app.kubernetes.io/instance` of the pods this orchestrator manages, so "
        "two installations in one namespace never touch each other's pods.",
    )
    replica_id: str | None = Field(
        None, description="Who claims (annotation on claimed pods); unset: the host name."
    )
    request_timeout_s: float = Field(10.0, gt=0, description="Per API request, seconds.")
    watch_timeout_s: int = Field(
        300, ge=10, description="Server-side watch timeout before re-watching, seconds."
    )
    watch_idle_timeout_s: float | None = Field(
        None,
        gt=0,
        description="Seconds a watch may bring neither an event nor a bookmark before the "
        "connection is presumed silently dropped and the cache lists again; unset: "
        "`watch_timeout_s` + 30 (the server must have ended the stream by then).",
    )
    list_page_size: int = Field(
        500, ge=1, description="Objects per page of a list (`limit`, then `continue`)."
    )
    api_retry_attempts: int = Field(
        6, ge=1, description="Tries per API call that meets 429, 5xx or a lost connection."
    )
    api_retry_deadline_s: float = Field(
        10.0, gt=0, description="No retry of one API call waits past this, seconds."
    )
    api_retry_base_s: float = Field(
        0.05, ge=0, description="Base of the full-jitter exponential back-off, seconds."
    )
    api_retry_cap_s: float = Field(
        2.0, ge=0, description="Longest wait between tries (a `Retry-After` too), seconds."
    )

    # --- streamer keys
    streamer_key_seed: SecretStr | None = Field(
        None,
        description=f"What each streamer's token key is derived from: HMAC-SHA256 of the "
        f"pod name (`keys`), so every replica, and a restarted one, knows every key without "
        f"reading a Secret. At least {MIN_SECRET_BYTES} random bytes, the same on every "
        "replica; required with the kubernetes backend. A new seed invalidates the keys of "
        "running streamers: drain the warm pool before rotating it.",
    )

    # --- the pod
    image: str = Field(
        "ghcr.io/ixstream/streamer:0.1.0", description="Streamer image (docker/streamer)."
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    image_pull_secrets: list[str] = Field(default_factory=list)
    service_account: str | None = Field(
        "ixstream-streamer",
        description="Service account of streamer pods (no API access: token not mounted).",
    )
    gpu_resource: str = Field(
        "nvidia.com/gpu",
        description="Extended resource a streamer requests (NVIDIA device plugin name; "
        "`nvidia.com/mig-1g.10gb` for a MIG slice, ...). Empty: no GPU (software path).",
    )
    gpu_count: int = Field(1, ge=0, description="How many of `gpu_resource` per streamer.")
    cpu_request: str = Field("2", description="CPU request (Kubernetes quantity).")
    cpu_limit: str | None = Field("4", description="CPU limit; unset: none.")
    memory_request: str = Field("2Gi", description="Memory request (quantity).")
    memory_limit: str | None = Field("4Gi", description="Memory limit; unset: none.")
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[dict[str, Any]] = Field(
        default_factory=lambda: [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ],
        description="Pod tolerations (GPU nodes are commonly tainted).",
    )
    runtime_class_name: str | None = Field(
        "nvidia", description="RuntimeClass that injects the NVIDIA driver; unset: default."
    )
    priority_class_name: str | None = None
    port: int = Field(8080, ge=1, le=65535, description="Streamer HTTP port in the pod.")
    metrics_port: int = Field(
        9090,
        ge=1,
        le=65535,
        description="Streamer port serving only Prometheus' /metrics (the container port "
        "named `metrics`), which the NetworkPolicy opens to Prometheus alone.",
    )
    listen_host: str = Field(
        "$(POD_IP)",
        description="Address the streamer binds (`--host`). The pod IP by default, expanded "
        "by the kubelet from the downward API; `0.0.0.0` also allows port-forwarding.",
    )
    stop_grace_s: int = Field(
        5, ge=0, description="terminationGracePeriodSeconds (the streamer needs 2), seconds."
    )
    node_lost_toleration_s: int = Field(
        30,
        ge=0,
        description="Seconds a pod stays bound to an unreachable or not-ready node before "
        "the taint manager evicts it (the default, 300, is long for a live session).",
    )
    streamer_env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment for the streamer (e.g. log level)."
    )
    ice_host_from_pod_ip: bool = Field(
        False,
        description="Offer the pod IP as the only ICE host candidate (`--ice-host`): for "
        "the simulator, whose pod IPs are loopback addresses aioice would skip.",
    )
    extra_args: list[str] = Field(default_factory=list, description="Appended to the args.")

    # --- reaching the streamer
    signalling: Literal["pod-ip", "service"] = Field(
        "pod-ip",
        description="How the orchestrator reaches a streamer: its pod IP, or a ClusterIP "
        "Service per pod (owned by the pod, deleted with it) for meshes that need one.",
    )
    host_network: bool = Field(
        False,
        description="Run streamers in the node's network namespace so WebRTC media uses "
        "public node IPs directly (clusters with public nodes, no TURN). One streamer "
        "per node and port.",
    )
    # --- claiming and starting
    claim_attempts: int = Field(
        8, ge=1, description="Pods tried per claim before giving up (409s and vanished pods)."
    )
    claim_backoff_s: float = Field(
        0.002, ge=0, description="Base of the jittered exponential back-off after a 409, s."
    )
    claim_placement: Literal["pack", "spread"] = Field(
        "pack",
        description="Which warm pod a claim takes: `pack` prefers nodes where this "
        "replica already serves sessions, then idle ones (so other nodes empty out and the "
        "cluster autoscaler can remove them); `spread` takes any at random (`packing`).",
    )
    max_unschedulable_s: float = Field(
        900.0,
        gt=0,
        description="How long a streamer may wait for a GPU (Pending, Unschedulable) "
        "before it fails with `start_timeout`; the start timeout counts from scheduling.",
    )

    # --- the warm pool (fleet)
    pool_buffer: int = Field(
        2, ge=0, description="Ready, unclaimed streamer pods to keep (Agones' bufferSize)."
    )
    pool_buffer_percent: int | None = Field(
        None,
        gt=0,
        lt=100,
        description="When set, the share of all streamer pods (percent) kept warm instead "
        "of `pool_buffer`: the buffer follows demand (Agones' percentage bufferSize, "
        "total = ceil(bound * 100 / (100 - percent))).",
    )
    pool_min: int = Field(0, ge=0, description="Fewest streamer pods in all (warm + bound).")
    pool_max: int = Field(
        16, ge=0, description="Most streamer pods the pool grows to in all (warm + bound)."
    )
    pool_interval_s: float = Field(1.0, gt=0, description="Period of the pool loop, seconds.")
    drain_interval_s: float = Field(
        5.0,
        gt=0,
        description="How often the cordoned nodes are listed (node drains: no claims "
        "there, warm pods retired first), seconds.",
    )
    lease_duration_s: float = Field(
        15.0, gt=0, description="Leader lease of the pool loop: one replica keeps the pool."
    )

    def watch_idle_s(self) -> float:
        """The watch's client-side read timeout (see `watch_idle_timeout_s`)."""
        if self.watch_idle_timeout_s is not None:
            return self.watch_idle_timeout_s
        return float(self.watch_timeout_s + 30)

    @field_validator("streamer_key_seed")
    @classmethod
    def _refuse_a_weak_seed(cls, seed: SecretStr | None) -> SecretStr | None:
        weakness = None if seed is None else key_weakness(seed.get_secret_value())
        if weakness is not None:
            raise ValueError(f"IXS_ORCH_KUBERNETES__STREAMER_KEY_SEED {weakness}; {GENERATE_HINT}")
        return seed

    @model_validator(mode="before")
    @classmethod
    def _refuse_moved_fields(cls, data: Any) -> Any:
        moved = sorted(set(data) & MOVED_TO_ICE.keys()) if isinstance(data, dict) else []
        if moved:
            names = ", ".join(
                f"IXS_ORCH_KUBERNETES__{old.upper()} is now {MOVED_TO_ICE[old]}" for old in moved
            )
            raise ValueError(f"ICE settings moved to the orchestrator's `ice` group: {names}")
        return data

    @model_validator(mode="after")
    def _check_consistency(self) -> KubernetesSettings:
        if self.pool_min > self.pool_max:
            raise ValueError("pool_min must not exceed pool_max")
        if self.host_network and self.signalling == "service":
            raise ValueError("host_network streamers are reached by node IP, not a Service")
        if self.port == self.metrics_port:
            raise ValueError(f"port and metrics_port must differ, both are {self.port}")
        return self
