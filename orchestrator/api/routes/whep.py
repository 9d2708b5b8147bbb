"""The WHEP proxy: one public port serves every session's signalling.

draft-ietf-wish-whep: the client POSTs an SDP offer (`Content-Type: application/sdp`)
with a bearer token and gets `201 Created`, the SDP answer and a `Location` naming the
WHEP session resource; DELETE on that resource ends playback. We check the session
token (the streamer checks it again), forward the offer to the session's streamer,
and rewrite `Location` to point back through us. DELETE and PATCH go to the streamer with
the caller's own token: the streamer decides who may end a resource (its creator, an
instructor, the orchestrator) and answers PATCH (no trickle ICE: 405 with `Allow`), and
its refusals come back as problem documents.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Header, Path, Request, Response

from orchestrator.api.bodies import read_limited
from orchestrator.api.deps import Context, Service
from orchestrator.api.problems import problem_response, problem_responses
from orchestrator.sessions.models import Session
from orchestrator.sessions.service import SessionService
from orchestrator.tokens import SessionClaims

router = APIRouter(prefix="/v1/sessions", tags=["signalling"])

SDP = "application/sdp"
MAX_OFFER_BYTES = 64 * 1024  # the streamer's limit too (docs/streamer-contract.md)
#: Response headers worth passing through from the streamer (WHEP §4.3, §4.4).
PASS_THROUGH = ("etag", "link", "accept-patch")

SessionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ResourceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.~-]{1,128}$")]
AuthorizationHeader = Annotated[
    str | None,
    Header(alias="Authorization", description="`Bearer <session token>`."),
]


def bearer_token(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@router.post(
    "/{session_id}/whep",
    status_code=201,
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {SDP: {"schema": {"type": "string", "description": "SDP offer"}}},
        }
    },
    responses={
        201: {
            "description": "The SDP answer; `Location` names the WHEP session resource.",
            "content": {SDP: {"schema": {"type": "string"}}},
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **problem_responses(400, 401, 403, 404, 409, 410, 413, 415, 502, 503),
    },
)
async def whep_offer(
    session_id: SessionId,
    request: Request,
    service: Service,
    context: Context,
    authorization: AuthorizationHeader = None,
) -> Response:
    """Open a viewer connection to the session's stream (WHEP offer → answer).

    Waits for a `starting` session to become ready, so a client can post its offer
    right after creating the session.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != SDP:
        return problem_response(
            415,
            f"a WHEP offer must be {SDP}, not {content_type or 'missing'!r}",
            instance=request.url.path,
        )
    # Who is asking, and for which session, before a byte of the body is read: an
    # offer that will be refused costs its sender, not us (docs/security.md, limits).
    token = bearer_token(authorization)
    session, claims, streamer_url = await _target(service, session_id, token)
    offer = await read_limited(request, MAX_OFFER_BYTES, "an SDP offer")
    upstream = await _forward(
        context.proxy,
        request,
        "POST",
        f"{streamer_url}/whep",
        content=offer,
        headers={"Content-Type": SDP, "Authorization": f"Bearer {token}"},
    )
    if isinstance(upstream, Response):
        return upstream
    if upstream.status_code != 201:
        return _streamer_problem(upstream, request)
    resource = upstream.headers.get("location", "").rstrip("/").rsplit("/", 1)[-1]
    if not resource:
        return problem_response(
            502, "the streamer answered without a Location header", instance=request.url.path
        )
    service.gate.note_viewer_connected(session, claims)
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASS_THROUGH}
    headers["Location"] = f"{request.url.path.rstrip('/')}/{resource}"
    return Response(upstream.content, status_code=201, media_type=SDP, headers=headers)


@router.delete(
    "/{session_id}/whep/{resource_id}",
    response_class=Response,
    responses={
        200: {"description": "Playback ended."},
        **problem_responses(401, 403, 404, 409, 410, 502),
    },
)
async def whep_stop(
    session_id: SessionId,
    resource_id: ResourceId,
    request: Request,
    service: Service,
    context: Context,
    authorization: AuthorizationHeader = None,
) -> Response:
    """End one viewer connection (WHEP session teardown)."""
    token = bearer_token(authorization)
    _, _, streamer_url = await _target(service, session_id, token)
    upstream = await _forward(
        context.proxy,
        request,
        "DELETE",
        f"{streamer_url}/whep/{resource_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    if isinstance(upstream, Response):
        return upstream
    if upstream.status_code >= 400:
        return _streamer_problem(upstream, request)
    return Response(status_code=upstream.status_code)


#: WHEP §4.1: OPTIONS is the CORS preflight. CORS headers come from `ScopedCors`
#: (`orchestrator/app.py`); no token is needed, browsers send preflights without one.
PREFLIGHT_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {
        "description": "CORS preflight answered (WHEP §4.1); the `Access-Control-*` "
        "headers name the allowed origin, methods and headers.",
        "headers": {
            "Access-Control-Allow-Origin": {"schema": {"type": "string"}},
            "Access-Control-Allow-Methods": {"schema": {"type": "string"}},
        },
    },
}


@router.options(
    "/{session_id}/whep",
    status_code=204,
    response_class=Response,
    responses={
        **PREFLIGHT_RESPONSES,
        204: {
            **PREFLIGHT_RESPONSES[204],
            "headers": {
                **PREFLIGHT_RESPONSES[204]["headers"],
                "Accept-Post": {"schema": {"type": "string", "enum": [SDP]}},
            },
        },
    },
)
async def whep_preflight(session_id: SessionId) -> Response:
    """CORS preflight of a WHEP offer; says what POST accepts (`Accept-Post`, WHEP §4.1)."""
    return Response(status_code=204, headers={"Accept-Post": SDP})


@router.options(
    "/{session_id}/whep/{resource_id}",
    status_code=204,
    response_class=Response,
    responses=PREFLIGHT_RESPONSES,
)
async def whep_resource_preflight(session_id: SessionId, resource_id: ResourceId) -> Response:
    """CORS preflight of a DELETE or PATCH on a WHEP resource."""
    return Response(status_code=204)


@router.patch("/{session_id}/whep/{resource_id}", response_class=Response, include_in_schema=False)
async def whep_patch(
    session_id: SessionId,
    resource_id: ResourceId,
    request: Request,
    service: Service,
    context: Context,
    authorization: AuthorizationHeader = None,
) -> Response:
    """Trickle ICE or an ICE restart (WHEP's PATCH with `application/trickle-ice-sdpfrag`),
    forwarded to the streamer, which decides: today it supports neither and answers 405
    with `Allow` (docs/streamer-contract.md), which comes back as a problem document with
    the streamer's `Allow`. Out of the OpenAPI document on purpose: `allowed_methods`
    builds every other 405's `Allow` from it, and PATCH is not something this resource
    does."""
    token = bearer_token(authorization)
    _, _, streamer_url = await _target(service, session_id, token)
    body = await read_limited(request, MAX_OFFER_BYTES, "a WHEP PATCH body")
    headers = {"Authorization": f"Bearer {token}"}
    for name in ("content-type", "if-match"):
        if name in request.headers:
            headers[name] = request.headers[name]
    upstream = await _forward(
        context.proxy,
        request,
        "PATCH",
        f"{streamer_url}/whep/{resource_id}",
        content=body,
        headers=headers,
    )
    if isinstance(upstream, Response):
        return upstream
    if upstream.status_code >= 400:
        return _streamer_problem(upstream, request)
    passed = {
        k: v for k, v in upstream.headers.items() if k.lower() in (*PASS_THROUGH, "content-type")
    }
    return Response(upstream.content, status_code=upstream.status_code, headers=passed)


async def _target(
    service: SessionService, session_id: str, token: str | None
) -> tuple[Session, SessionClaims, str]:
    """The session a WHEP request is for, the token's claims, and its streamer's URL,
    once the token is checked against exactly this session (the streamer checks again)."""
    session, claims = await service.gate.signalling_target(session_id, token)
    assert session.streamer is not None
    assert session.streamer.base_url is not None
    return session, claims, session.streamer.base_url


async def _forward(
    client: httpx.AsyncClient,
    request: Request,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None = None,
) -> httpx.Response | Response:
    try:
        return await client.request(method, url, headers=headers, content=content)
    except httpx.TimeoutException:
        return problem_response(
            504, "the session's streamer did not answer in time", instance=request.url.path
        )
    except httpx.HTTPError as exc:
        return problem_response(
            502,
            f"the session's streamer could not be reached: {exc!r}",
            instance=request.url.path,
        )


def _streamer_problem(upstream: httpx.Response, request: Request) -> Response:
    """The streamer's own error (400 malformed SDP, 403 token...) as a problem document."""
    reason = upstream.text.strip()[:500] or upstream.reason_phrase
    try:
        body = upstream.json()
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            reason = body["detail"]
    except ValueError:
        pass
    # A 405's `Allow` is the streamer's to state (RFC 9110 §15.5.6), as is `Accept-Patch`.
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in ("allow", "accept-patch")}
    return problem_response(
        upstream.status_code,
        f"the streamer refused: {reason}",
        instance=request.url.path,
        headers=headers,
    )
