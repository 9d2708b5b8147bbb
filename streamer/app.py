"""The streamer's HTTP face: WHEP signalling, health, status and metrics.

WHEP (draft-ietf-wish-whep): a viewer POSTs its SDP offer and gets `201
Created`, the answer and a `Location` for its resource; `DELETE` on that
location ends it. Errors are plain text with a precise reason, since WHEP
clients (players, browsers) show the body as is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from importlib.resources import files
from typing import Annotated

import structlog
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streamer.auth import AuthError, ViewerClaims, bearer_token, verify_token
from streamer.control_api import control_router
from streamer.metrics import StreamerMetrics
from streamer.rtc.sdp_check import OfferError
from streamer.service import ServiceError, StreamerService
from streamer.settings import StreamerSettings

log = structlog.get_logger(__name__)

SDP_TYPE = "application/sdp"


def create_app(settings: StreamerSettings, on_fatal: asyncio.Event | None = None) -> FastAPI:
    """Builds the app; the service starts in the lifespan, never at import."""
    metrics = StreamerMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = StreamerService(settings, metrics)
        app.state.service = service
        await service.start()
        watcher = asyncio.create_task(_report_fatal(service, on_fatal))
        try:
            yield
        finally:
            watcher.cancel()
            await service.stop()

    app = FastAPI(title="IX Stream streamer", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(control_router(settings))

    def service_of(request: Request) -> StreamerService:
        service: StreamerService = request.app.state.service
        return service

    def authorise(authorization: str | None) -> ViewerClaims:
        if not settings.auth:
            return ViewerClaims(subject="anonymous", role="trainee", session_id=None)
        assert settings.jwt_secret is not None
        token = bearer_token(authorization)
        return verify_token(token, settings.jwt_secret.get_secret_value(), settings.session_id)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        service = service_of(request)
        if not service.ready:
            reason = f"pipeline failed: {service.fatal}" if service.fatal else "initialising"
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        pipeline = service.pipeline
        return JSONResponse(
            {
                "status": "ready",
                "renderer": pipeline.renderer_name,
                "encoder": pipeline.encoder_name,
            }
        )

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/status")
    async def status(request: Request) -> dict[str, object]:
        return asdict(service_of(request).status())

    @app.post("/whep", status_code=201)
    async def whep_offer(
        request: Request,
        content_type: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        service = service_of(request)
        try:
            claims = authorise(authorization)
            if (content_type or "").split(";")[0].strip().lower() != SDP_TYPE:
                raise ServiceError(415, f"Content-Type must be {SDP_TYPE}, got {content_type!r}")
            offer = await _read_sdp(request, settings.max_sdp_bytes)
            viewer_id, answer = await service.connect(offer, claims)
        except AuthError as exc:
            return _reject(metrics, exc.status, exc.detail, bearer=True)
        except OfferError as exc:
            return _reject(metrics, 400, f"malformed SDP offer: {exc}")
        except ServiceError as exc:
            return _reject(metrics, exc.status, exc.detail)
        metrics.whep_requests.labels(outcome="201").inc()
        location = f"/whep/{viewer_id}"
        return Response(
            answer,
            status_code=201,
            media_type=SDP_TYPE,
            headers={"Location": location, "ETag": f'"{viewer_id}"'},
        )

    @app.delete("/whep/{viewer_id}")
    async def whep_delete(
        viewer_id: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        try:
            authorise(authorization)
        except AuthError as exc:
            return _reject(metrics, exc.status, exc.detail, bearer=True)
        if not await service_of(request).release(viewer_id, "deleted"):
            return _reject(metrics, 404, f"no WHEP resource {viewer_id!r}")
        return PlainTextResponse("", status_code=200)

    @app.get("/", include_in_schema=False)
    async def test_view() -> Response:
        """A bare WHEP viewer for looking at this one streamer (clients/web is the product UI)."""
        page = files("streamer").joinpath("static/whep.html").read_text(encoding="utf-8")
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @app.options("/whep")
    async def whep_options() -> Response:
        # WHEP §4.1: OPTIONS is for CORS pre-flight; advertise what we accept.
        return Response(status_code=204, headers={"Accept-Post": SDP_TYPE})

    return app


async def _read_sdp(request: Request, limit: int) -> str:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ServiceError(413, f"SDP offer of {declared} bytes exceeds {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ServiceError(413, f"SDP offer exceeds {limit} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise OfferError("SDP offer is not UTF-8 text") from None


def _reject(metrics: StreamerMetrics, status: int, detail: str, bearer: bool = False) -> Response:
    metrics.whep_requests.labels(outcome=str(status)).inc()
    headers = {"WWW-Authenticate": 'Bearer realm="ixstream"'} if bearer and status == 401 else {}
    return PlainTextResponse(detail + "\n", status_code=status, headers=headers)


async def _report_fatal(service: StreamerService, on_fatal: asyncio.Event | None) -> None:
    exc = await service.wait_fatal()
    log.error("streamer_unusable", error=str(exc))
    if on_fatal is not None:
        on_fatal.set()
