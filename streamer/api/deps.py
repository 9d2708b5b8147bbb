"""Reusable dependencies, as `Annotated` aliases (FastAPI's "bigger applications").

The app keeps its settings, metrics and (once the lifespan started it) the session's
service on `app.state`; routes ask for them here instead of closing over a factory's
locals. The bearer-token checks live here too: one for viewers, one for the
orchestrator's control API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from streamer.auth import (
    CONTROL_ROLES,
    ROLES,
    AuthError,
    Role,
    ViewerClaims,
    bearer_token,
    verify_token,
)
from streamer.metrics import StreamerMetrics
from streamer.service import StreamerService
from streamer.settings import StreamerSettings

#: RFC 6750 §3: a 401 names the scheme the client should use.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ixstream"'}


def get_settings(request: Request) -> StreamerSettings:
    settings: StreamerSettings = request.app.state.settings
    return settings


Settings = Annotated[StreamerSettings, Depends(get_settings)]


def get_metrics(request: Request) -> StreamerMetrics:
    metrics: StreamerMetrics = request.app.state.metrics
    return metrics


Metrics = Annotated[StreamerMetrics, Depends(get_metrics)]


def get_service(request: Request) -> StreamerService:
    service: StreamerService = request.app.state.service
    return service


Service = Annotated[StreamerService, Depends(get_service)]


def authorise_viewer(
    settings: StreamerSettings, authorization: str | None, roles: tuple[Role, ...] = ROLES
) -> ViewerClaims:
    """The caller's claims, or `AuthError`: WHEP routes answer it in their own plain-text
    form, so this is a function they call, not a dependency that answers for them."""
    if not settings.auth:
        return ViewerClaims(subject="anonymous", role="trainee", session_id=None)
    assert settings.jwt_secret is not None
    token = bearer_token(authorization)
    secret = settings.jwt_secret.get_secret_value()
    return verify_token(token, secret, settings.session_id, roles=roles)


def require_orchestrator(
    settings: Settings, authorization: Annotated[str | None, Header()] = None
) -> None:
    """A dependency, so a caller without the orchestrator's token learns nothing,
    not even whether its body would have validated."""
    if not settings.auth:
        return
    assert settings.jwt_secret is not None
    try:
        token = bearer_token(authorization)
        secret = settings.jwt_secret.get_secret_value()
        verify_token(token, secret, settings.session_id, roles=CONTROL_ROLES)
    except AuthError as exc:
        headers = dict(CHALLENGE) if exc.status == 401 else None
        raise HTTPException(exc.status, exc.detail, headers=headers) from None
