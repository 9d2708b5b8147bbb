"""WHEP signalling (draft-ietf-wish-whep), and a bare page that plays it.

A viewer POSTs its SDP offer and gets `201 Created`, the answer and a `Location` for
its resource; `DELETE` on that location ends it. Errors are plain text with a precise
reason, since WHEP clients (players, browsers) show the body as is; each answer is
counted by status.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from streamer.api.deps import CHALLENGE, Metrics, Service, Settings, authorise_viewer
from streamer.auth import RESOURCE_ROLES, AuthError, may_end
from streamer.metrics import StreamerMetrics
from streamer.rtc.sdp_check import OfferError
from streamer.service import ServiceError

SDP_TYPE = "application/sdp"
#: What a WHEP resource (`/whep/{id}`) answers to, for `Allow` (RFC 9110 §10.2.1).
RESOURCE_METHODS = "DELETE"

router = APIRouter()


@router.post("/whep", status_code=201)
async def whep_offer(
    request: Request,
    service: Service,
    settings: Settings,
    metrics: Metrics,
    content_type: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    try:
        claims = authorise_viewer(settings, authorization)
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


@router.delete("/whep/{viewer_id}")
async def whep_delete(
    viewer_id: str,
    service: Service,
    settings: Settings,
    metrics: Metrics,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Ends a WHEP resource: only its creator, an instructor or the orchestrator may."""
    try:
        caller = authorise_viewer(settings, authorization, roles=RESOURCE_ROLES)
    except AuthError as exc:
        return _reject(metrics, exc.status, exc.detail, bearer=True)
    viewer = service.viewers.get(viewer_id)
    if viewer is None:
        return _reject(metrics, 404, f"no WHEP resource {viewer_id!r}")
    refusal = may_end(viewer.claims, caller)
    if refusal is not None:
        return _reject(metrics, 403, refusal)
    if not await service.release(viewer_id, "deleted"):
        return _reject(metrics, 404, f"no WHEP resource {viewer_id!r}")
    return PlainTextResponse("", status_code=200)


@router.patch("/whep/{viewer_id}")
async def whep_patch(viewer_id: str, metrics: Metrics) -> Response:
    """Trickle ICE and ICE restart are not offered: the answer already carries every
    candidate (aiortc gathers them all before answering), and aiortc cannot restart ICE.

    draft-ietf-wish-whep, "ICE support" (as WHIP, RFC 9725 §4.3.1): a resource that
    supports neither answers every PATCH with 405 Method Not Allowed, which must name
    the methods it does allow (RFC 9110 §15.5.6); it never sends `Accept-Patch`, so a
    compliant player does not trickle in the first place. Answered for any resource id
    and before authentication: it is what this kind of resource does, not a secret.
    """
    response = _reject(
        metrics,
        405,
        "this WHEP resource supports neither trickle ICE nor ICE restart (no PATCH): "
        "send the offer with every candidate, and POST a new offer to reconnect",
    )
    response.headers["Allow"] = RESOURCE_METHODS
    return response


@router.options("/whep")
async def whep_options() -> Response:
    """WHEP §4.1: OPTIONS is the CORS preflight; it also says what POST accepts. The
    CORS headers themselves come from the app's `ScopedCors` (`streamer/app.py`)."""
    return Response(status_code=204, headers={"Accept-Post": SDP_TYPE})


@router.options("/whep/{viewer_id}")
async def whep_resource_options(viewer_id: str) -> Response:
    """The preflight of a DELETE or PATCH on a WHEP resource (WHEP §4.1, §4.3): always
    204, with no token (browsers send preflights without `Authorization`)."""
    return Response(status_code=204)


@router.get("/", include_in_schema=False)
async def test_view() -> Response:
    """A bare WHEP viewer for looking at this one streamer (clients/web is the product UI)."""
    page = files("streamer").joinpath("static/whep.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


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
    headers = dict(CHALLENGE) if bearer and status == 401 else {}
    return PlainTextResponse(detail + "\n", status_code=status, headers=headers)
