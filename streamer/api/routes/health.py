"""Probes, metrics and the session's status: what kubelets, Prometheus and the
orchestrator poll (DESIGN §2, "Health and metrics")."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streamer.api.deps import Metrics, Service

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(service: Service) -> JSONResponse:
    """Readiness: the renderer and the encoder are initialised, a session can start."""
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


@router.get("/metrics")
async def prometheus(metrics: Metrics) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/status")
async def status(service: Service) -> dict[str, object]:
    return asdict(service.status())
