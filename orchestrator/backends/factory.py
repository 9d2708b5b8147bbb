"""`create_backend`: the one place that chooses a SessionBackend from settings."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from orchestrator.backends.base import SessionBackend
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.local import LocalBackendConfig, LocalProcessBackend
from orchestrator.clock import Clock
from orchestrator.errors import ConfigurationError
from orchestrator.settings import OrchestratorSettings


def create_backend(
    settings: OrchestratorSettings, clock: Clock, registry: CollectorRegistry | None = None
) -> SessionBackend:
    """The backend `settings.backend` names. `registry` is the app's metrics registry, so
    the Kubernetes backend's claim and pod metrics are served at the app's `/metrics`."""
    if settings.backend == "local":
        config = LocalBackendConfig(
            state_dir=settings.state_dir,
            host=settings.streamer_host,
            stop_grace_s=settings.stop_grace_s,
            ice_hosts=tuple(settings.ice_hosts) if settings.ice_hosts is not None else None,
        )
        return LocalProcessBackend(config, clock)
    if settings.backend == "kubernetes":
        return KubernetesBackend(settings.kubernetes, clock, registry=registry)
    raise ConfigurationError(f"unknown backend {settings.backend!r}")  # pragma: no cover
