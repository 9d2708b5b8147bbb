"""Probes and metrics. Unauthenticated on purpose: kubelets and Prometheus scrape them,
and they reveal no session ids (metrics carry no per-session label)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orchestrator.api.deps import Context
from orchestrator.api.problems import problem_response, problem_responses
from orchestrator.api.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=problem_responses(503))
async def readyz(context: Context) -> Readiness | Response:
    """Readiness: recovery is done and the session service is running."""
    service = context.service
    if not service.serving:
        return problem_response(503, "the session service is starting or stopping")
    return Readiness(
        status="ready",
        backend=context.backend.name,
        sessions=service.holding(),
        max_sessions=context.settings.max_sessions,
        warm_streamers=service.pool.figures().ready,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format.",
        }
    },
)
async def metrics(context: Context) -> Response:
    """Prometheus metrics (`ixstream_orchestrator_*`)."""
    return Response(generate_latest(context.registry), media_type=CONTENT_TYPE_LATEST)
