"""Reusable dependencies, as `Annotated` aliases (FastAPI's "bigger applications")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orchestrator.api.context import AppContext
from orchestrator.errors import AuthenticationError, PermissionDeniedError
from orchestrator.identity import Principal, Role
from orchestrator.sessions.service import SessionService

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="A JWT with `sub`, `exp`, the configured audience and a `role` claim "
    "(trainee, instructor or operator).",
)


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.ctx
    return context


Context = Annotated[AppContext, Depends(get_context)]


def get_service(context: Context) -> SessionService:
    return context.service


Service = Annotated[SessionService, Depends(get_service)]


async def get_principal(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise AuthenticationError("this endpoint needs `Authorization: Bearer <token>`")
    return await context.authenticator.authenticate(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Any:
    """A dependency admitting only `roles`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise PermissionDeniedError(
                f"this needs one of the roles {allowed}; you are {principal.role.value}"
            )
        return principal

    return Depends(check)


def public_base_url(request: Request, context: AppContext) -> str:
    """Where clients reach us: the configured public URL, else this request's base."""
    base = context.settings.public_url or str(request.base_url)
    return base.rstrip("/")
