"""`create_backend`: the one place that chooses a SessionBackend from settings."""

from __future__ import annotations

from orchestrator.backends.base import SessionBackend
from orchestrator.backends.local import LocalBackendConfig, LocalProcessBackend
from orchestrator.clock import Clock
from orchestrator.errors import ConfigurationError
from orchestrator.settings import OrchestratorSettings


def create_backend(settings: OrchestratorSettings, clock: Clock) -> SessionBackend:
    if settings.backend == "local":
        config = LocalBackendConfig(
            state_dir=settings.state_dir,
            host=settings.streamer_host,
            stop_grace_s=settings.stop_grace_s,
            ice_hosts=tuple(settings.ice_hosts) if settings.ice_hosts is not None else None,
        )
        return LocalProcessBackend(config, clock)
    raise ConfigurationError(f"unknown backend {settings.backend!r}")  # pragma: no cover
