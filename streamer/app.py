"""The streamer's FastAPI app: its routers, and a lifespan that owns the session's service.

Routes live in `streamer/api/routes/` (WHEP, probes, the orchestrator's control API, and
Prometheus' metrics, which a second app serves on the metrics port);
they find the settings, metrics and service on `app.state` through `streamer/api/deps.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from streamer.api.routes import control, health, metrics, whep
from streamer.metrics import StreamerMetrics
from streamer.service import StreamerService
from streamer.settings import StreamerSettings

log = structlog.get_logger(__name__)


def create_app(settings: StreamerSettings, on_fatal: asyncio.Event | None = None) -> FastAPI:
    """Builds the app; the service starts in the lifespan, never at import.

    `on_fatal` is set when the render/encode pipeline fails, so the server can exit.
    """
    app = FastAPI(title="IX Stream streamer", lifespan=_lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.metrics = StreamerMetrics()
    app.state.on_fatal = on_fatal
    app.include_router(control.router)
    app.include_router(health.router)
    app.include_router(whep.router)
    return app


def create_metrics_app(registry_owner: StreamerMetrics) -> FastAPI:
    """The metrics port's app: `/metrics` and nothing else, for Prometheus alone.

    A listener of its own so the pod's NetworkPolicy can admit Prometheus to this port
    and nothing else, while the main port (WHEP, control) admits the orchestrator.
    """
    app = FastAPI(
        title="IX Stream streamer metrics", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.metrics = registry_owner
    app.include_router(metrics.router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    service = StreamerService(app.state.settings, app.state.metrics)
    app.state.service = service
    await service.start()
    watcher = asyncio.create_task(_report_fatal(service, app.state.on_fatal))
    try:
        yield
    finally:
        watcher.cancel()
        await service.stop()


async def _report_fatal(service: StreamerService, on_fatal: asyncio.Event | None) -> None:
    exc = await service.wait_fatal()
    log.error("streamer_unusable", error=str(exc))
    if on_fatal is not None:
        on_fatal.set()
