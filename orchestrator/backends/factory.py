"""`create_backend`: the one place that chooses a SessionBackend, and its warm pool,
from settings."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.backends.base import SessionBackend, StreamerProfile, WarmSupply
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.pool import ClusterWarmPool
from orchestrator.backends.local import LocalBackendConfig, LocalProcessBackend
from orchestrator.clock import Clock
from orchestrator.errors import ConfigurationError
from orchestrator.ice.issuer import IceIssuer
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.pool import WarmPool
from orchestrator.settings import OrchestratorSettings


@dataclass(frozen=True, slots=True)
class BackendWithPool:
    """A backend and the warm pool its streamers are claimed from."""

    backend: SessionBackend
    pool: WarmSupply


def create_backend(
    settings: OrchestratorSettings,
    clock: Clock,
    metrics: OrchestratorMetrics,
    warm_profile: StreamerProfile,
) -> BackendWithPool:
    """The backend `settings.backend` names, with a pool of `warm_profile` streamers:
    this replica's own (`pool_size` of them) for local processes, the cluster-wide one
    (`kubernetes.pool_buffer`) on Kubernetes. The metrics' registry takes the Kubernetes
    backend's claim and pod metrics too, so they are served at the app's `/metrics`."""
    if settings.backend == "local":
        config = LocalBackendConfig(
            state_dir=settings.state_dir,
            host=settings.streamer_host,
            stop_grace_s=settings.stop_grace_s,
            ice_hosts=tuple(settings.ice_hosts) if settings.ice_hosts is not None else None,
            cors_origins=tuple(settings.allowed_origins),
            ice=IceIssuer(settings.ice, clock),
            host_sessions=settings.max_sessions,
        )
        local = LocalProcessBackend(config, clock)
        pool = WarmPool(
            local,
            warm_profile,
            desired=settings.pool_size,
            start_timeout_s=settings.start_timeout_s,
            clock=clock,
            metrics=metrics,
        )
        return BackendWithPool(local, pool)
    if settings.backend == "kubernetes":
        kube = KubernetesBackend(
            settings.kubernetes,
            clock,
            registry=metrics.registry,
            cors_origins=settings.allowed_origins,
            ice=IceIssuer(settings.ice, clock),
        )
        fleet = ClusterWarmPool(kube, warm_profile, start_timeout_s=settings.start_timeout_s)
        return BackendWithPool(kube, fleet)
    raise ConfigurationError(f"unknown backend {settings.backend!r}")  # pragma: no cover
