"""Errors as RFC 9457 problem documents (`application/problem+json`).

The one place where the orchestrator's named errors become HTTP status codes. Every
error response, including FastAPI's own validation errors and unknown routes, has the
same shape: `type`, `title`, `status`, `detail`, `instance` (and `errors` for 422).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator import errors as e

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:ixstream:problem:"


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="A URN naming the kind of problem.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, and what to do.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Validation errors (422 only): as pydantic reports them for a request, "
        "`line`, `field`, `message` for a scenario document.",
    )


#: Most specific class first: the first match wins.
STATUS_OF: tuple[tuple[type[e.OrchestratorError], int, str], ...] = (
    (e.AuthenticationError, 401, "authentication-required"),
    (e.TokenRejectedError, 401, "invalid-token"),
    (e.SessionTokenRejectedError, 403, "session-token-rejected"),
    (e.PermissionDeniedError, 403, "forbidden"),
    (e.SessionNotFoundError, 404, "session-not-found"),
    (e.SessionNotReadyError, 409, "session-not-ready"),
    (e.SessionGoneError, 410, "session-gone"),
    (e.UnknownScenarioError, 422, "unknown-scenario"),
    (e.ScenarioNotFoundError, 404, "scenario-not-found"),
    (e.ScenarioInvalidError, 422, "invalid-scenario"),
    (e.ScenarioTooLargeError, 413, "scenario-too-large"),
    (e.BodyTooLargeError, 413, "body-too-large"),
    (e.UnsupportedMediaTypeError, 415, "unsupported-media-type"),
    (e.ArtifactNotFoundError, 404, "artifact-not-found"),
    (e.StreamerNothingThereError, 404, "streamer-not-found"),
    (e.StreamerConflictError, 409, "streamer-conflict"),
    (e.StreamerRejectedError, 422, "streamer-rejected"),
    (e.StreamerUnreachableError, 502, "streamer-unreachable"),
    (e.QueueFullError, 429, "queue-full"),
    (e.TooManyStreamsError, 429, "too-many-streams"),
    (e.BadEventIdError, 400, "bad-event-id"),
    (e.CapacityExhaustedError, 429, "capacity-exhausted"),
    (e.BackendError, 503, "backend-unavailable"),
    (e.OrchestratorError, 500, "internal"),
)


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body = Problem(
        type=TYPE_PREFIX + (slug or phrase.lower().replace(" ", "-")),
        title=phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def problem_for(exc: e.OrchestratorError, instance: str | None) -> JSONResponse:
    status, slug = next((s, n) for cls, s, n in STATUS_OF if isinstance(exc, cls))
    headers: dict[str, str] = {}
    if status == 401:
        # RFC 6750 §3: a 401 names the scheme, and why the token was refused.
        invalid = isinstance(exc, e.TokenRejectedError)
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if invalid else "Bearer"
    retry = getattr(exc, "retry_after_s", None)
    if retry is not None:
        headers["Retry-After"] = str(retry)
    errors = exc.errors if isinstance(exc, e.ScenarioInvalidError) else None
    return problem_response(
        status, exc.detail, slug=slug, instance=instance, headers=headers, errors=errors
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_orchestrator_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, e.OrchestratorError)
        return problem_for(exc, request.url.path)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        found = jsonable_encoder(exc.errors())
        first = found[0] if found else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        if len(found) > 1:
            detail += f" (and {len(found) - 1} more)"
        return problem_response(
            422, detail, slug="validation-error", instance=request.url.path, errors=found
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            allowed = allowed_methods(request.app.openapi().get("paths", {}), request.url.path)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
        return problem_response(
            exc.status_code, str(exc.detail), instance=request.url.path, headers=headers
        )

    app.add_exception_handler(e.OrchestratorError, on_orchestrator_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def allowed_methods(paths: Mapping[str, Mapping[str, Any]], path: str) -> list[str]:
    """The methods the OpenAPI document lists for `path` (RFC 9110 §15.5.6: a 405 lists
    them all). Starlette's own 405 names only the first route whose path matches, and
    the web client's catch-all mount answers `GET, HEAD` for any path, so the document,
    which clients read too, is the one answer. A literal path shadows a template that
    also matches it (`/v1/scenarios/schema` is no scenario id: the library reserves it),
    as it does when requests are routed."""
    templates = sorted(paths, key=lambda template: "{" in template)
    for template in templates:
        pattern = re.escape(template)
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", pattern)
        if re.fullmatch(pattern, path):
            return sorted(m.upper() for m in paths[template] if m.upper() in HTTP_METHODS)
    return []


HTTP_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem bodies for `codes`."""
    return {
        code: {
            "model": Problem,
            "description": HTTPStatus(code).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }
