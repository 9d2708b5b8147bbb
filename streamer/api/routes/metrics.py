"""Prometheus' `/metrics`, served alone on the streamer's metrics port (`--metrics-port`).

Counters and gauges about one session (viewers, frames, drops) are for Prometheus, not
for anyone who can reach the pod: the metrics port is a listener of its own, which the
pod's NetworkPolicy opens to Prometheus only (docs/kubernetes.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streamer.api.deps import Metrics

router = APIRouter()


@router.get("/metrics")
async def prometheus(metrics: Metrics) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
