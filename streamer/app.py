"""The streamer's FastAPI app: its routers, and a lifespan that owns the session's service.

Routes live in `streamer/api/routes/` (WHEP, probes, the orchestrator's control API, and
Prometheus' metrics, which a second app serves on the metrics port);
they find the settings, metrics and service on `app.state` through `streamer/api/deps.py`.
WHEP answers carry CORS headers for the configured origins (`ixstream/cors.py`), so a
player served elsewhere can use a streamer's URL directly.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from ixstream.cors import CorsPolicy, ScopedCors
from streamer.api.routes import control, health, metrics, whep
from streamer.metrics import StreamerMetrics
from streamer.service import StreamerService
from streamer.settings import StreamerSettings

log = structlog.get_logger(__name__)

#: CORS applies to WHEP only (`/whep` and its resources); the control API and status
#: are for the orchestrator, never for a browser.
WHEP_PATHS = re.compile(r"/whep(/[^/]+)?")
#: Any body FastAPI parses here (the orchestrator's scenario setup, at most a 256 KiB
#: document as JSON) is cut while streaming past this: the control API parses its body
#: before its token check runs, so the cut, not the check, is what bounds memory.
MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: StreamerSettings, on_fatal: asyncio.Event | None = None) -> FastAPI:
    """Builds the app; the service starts in the lifespan, never at import.

    `on_fatal` is set when the render/encode pipeline fails, so the server can exit.
    """
    app = FastAPI(
        title="IX Stream streamer",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.settings = settings
    app.state.metrics = StreamerMetrics()
    app.state.on_fatal = on_fatal
    app.add_middleware(
        ScopedCors, policy=CorsPolicy.for_origins(settings.cors_origins), paths=WHEP_PATHS
    )
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
