"""`GET /v1/events`: the live feed as server-sent events (WHATWG HTML §9.2), so pages
update when something changes instead of polling (issue 11).

Authenticated like every other route, with `Authorization: Bearer`: the web client
reads the stream with `fetch` (an `EventSource` cannot send that header, and a token
in the URL would land in access logs). What a caller receives follows the access rules
of `GET /v1/sessions` (`orchestrator/feed/hub.py`).

A stream opens with `retry:` and a `ready` event whose id is the newest event's, then
carries `session` and `scenario` events, each with an `id`. A client that lost the
stream reconnects with `Last-Event-ID` and gets what it missed; when that id has left
the ring (or is another run's), it gets `reset` and re-fetches its snapshot. Comment
lines every `feed_heartbeat_s` keep idle streams open through proxies. The stream ends
when the app stops, and when the caller's token expires (RFC 6750 §3.1: an expired token
no longer grants access, and a stream must not outlive it); the client's reconnection
then gets the 401 it needs to sign in again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from orchestrator.api.context import AppContext
from orchestrator.api.deps import Context, CurrentPrincipal, bearer, public_base_url
from orchestrator.api.problems import problem_responses
from orchestrator.api.routes.sessions import pool_out, session_out
from orchestrator.feed.hub import EventFeed, Subscription
from orchestrator.feed.publisher import EVENT_TYPES, SESSION_EVENT, Queued, Render
from orchestrator.feed.ring import FeedEvent
from orchestrator.feed.wire import EVENT_ID, encode_comment, encode_event, encode_retry, parse_id
from orchestrator.sessions.models import Session
from orchestrator.sessions.service import SessionService
from orchestrator.sessions.states import SessionState

router = APIRouter(prefix="/v1", tags=["events"], responses=problem_responses(401, 403))

EVENT_STREAM = "text/event-stream"
#: One event of the stream, by its fields (§9.2.6), for the OpenAPI document.
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": [*EVENT_TYPES]},
        "data": {"type": "string", "description": "A JSON document."},
        "id": {"type": "string", "pattern": EVENT_ID.pattern},
        "retry": {"type": "integer", "minimum": 0},
    },
}


def session_view(service: SessionService) -> Render:
    """How the feed shows a session: `GET /v1/sessions/{id}`'s body without the owner's
    token; `whep_url` is a path, completed per stream with the caller's base URL."""

    def render(session: Session) -> dict[str, Any]:
        whep = f"/v1/sessions/{session.id}/whep"
        return session_out(session, service, whep, None).model_dump(mode="json")

    return render


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events (WHATWG HTML §9.2), each described here "
            "by its fields; `data` is JSON (docs/orchestrator.md, Live feed).",
            "content": {EVENT_STREAM: {"schema": EVENT_SCHEMA}},
        },
        **problem_responses(400, 429),
    },
)
async def events(
    principal: CurrentPrincipal,
    context: Context,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    last_event_id: Annotated[
        str | None,
        Header(description="The id of the last event received, to resume after it."),
    ] = None,
) -> StreamingResponse:
    """The live feed for the caller: session changes (as `GET /v1/sessions/{id}` shows
    them, without tokens) and scenario states after instructor commands."""
    feed = context.feed.feed
    last = parse_id(last_event_id) if last_event_id else None
    sub = feed.subscribe(principal)  # before the replay: nothing published in between
    missed = feed.replay(principal, last) if last is not None else []
    until = _expiry(credentials)
    stream = _stream(context, sub, missed, public_base_url(request, context), until)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type=EVENT_STREAM, headers=headers)


def _expiry(credentials: HTTPAuthorizationCredentials | None) -> float:
    """When the caller's token expires (epoch seconds). The token was verified by
    `CurrentPrincipal` already; this only reads its `exp`, which verification required."""
    assert credentials is not None
    claims = jwt.decode(credentials.credentials, options={"verify_signature": False})
    return float(claims["exp"])


async def _stream(
    context: AppContext,
    sub: Subscription,
    missed: list[FeedEvent] | None,
    base: str,
    until: float,
) -> AsyncIterator[bytes]:
    """`missed`: what to replay first, or None when the caller's id cannot be resumed;
    `until`: when the caller's token expires, and the stream with it."""
    feed, settings = context.feed.feed, context.settings
    try:
        yield encode_retry(settings.feed_retry_ms)
        yield encode_event(feed.last_id, "ready", {})
        if missed is None:
            yield _reset(feed, "the last event id is no longer kept; fetch a fresh snapshot")
        for event in missed or ():
            yield _encode(event, base)
        while (left := until - time.time()) > 0:
            try:
                async with asyncio.timeout(min(settings.feed_heartbeat_s, left)):
                    item = await sub.next()
            except TimeoutError:
                if time.time() < until:
                    yield encode_comment("heartbeat")
                continue
            if item == "closed":
                return
            if item == "reset":
                sub.behind = False
                yield _reset(feed, "this stream fell behind; fetch a fresh snapshot")
                continue
            yield _encode(item, base)
    finally:
        feed.unsubscribe(sub)


def _reset(feed: EventFeed, why: str) -> bytes:
    return encode_event(feed.last_id, "reset", {"reason": why})


def _encode(event: FeedEvent, base: str) -> bytes:
    data = event.data
    if event.kind == SESSION_EVENT:
        data = {**data, "whep_url": base + str(data["whep_url"])}
    return encode_event(event.id, event.kind, data)


def queue_positions(service: SessionService) -> Queued:
    """Where each queued session stands, for the feed to publish the ones that moved."""
    pending = frozenset({SessionState.PENDING})

    def positions() -> list[tuple[Session, int | None]]:
        queued = service.sessions.in_states(pending)
        return [(s, service.admission.position(s.id)) for s in queued]

    return positions


def pool_view(service: SessionService) -> Callable[[], dict[str, Any]]:
    """The feed's `pool` event: `GET /v1/pool`'s body."""
    return lambda: pool_out(service).model_dump(mode="json")
