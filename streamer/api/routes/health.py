"""Probes: what kubelets poll (DESIGN §2, "Health and metrics"). Open to anyone on
purpose, so they say nothing about the session: `/metrics` has a port of its own
(`routes/metrics.py`) and `/v1/status` needs the orchestrator's token (`routes/control.py`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from streamer.api.deps import Service

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
