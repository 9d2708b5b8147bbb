"""The feed: one per app (the lifespan owns it), fanning each event out to the open
streams whose caller may see it.

Publishers call `publish` synchronously on the event loop (a transition, a command):
it numbers the event, keeps it in the ring and hands it to every subscriber's queue,
without awaiting, so a slow page can never hold up a state change. A subscriber whose
queue is full has fallen too far behind: it is told to `reset` (re-fetch a snapshot)
instead of being fed an unbounded backlog.

Who sees what is `orchestrator.sessions.access.can_see`, the rule `GET /v1/sessions`
applies: operators and instructors every session, a trainee their own; the warm
pool's figures only operators, as `GET /v1/pool`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.errors import TooManyStreamsError
from orchestrator.feed.ring import EventRing, FeedEvent
from orchestrator.feed.wire import EventId
from orchestrator.identity import Principal, Role
from orchestrator.sessions import access
from orchestrator.sessions.models import Session

#: What a subscription's queue yields besides events: the feed closed, or the page fell behind.
Signal = Literal["closed", "reset"]


@dataclass(frozen=True, slots=True)
class FeedLimits:
    ring_size: int = 1024
    queue_size: int = 256
    streams_per_principal: int = 8


@dataclass(eq=False)
class Subscription:
    """One open stream: its caller and the events waiting to be written to it."""

    principal: Principal
    queue: asyncio.Queue[FeedEvent | Signal]
    #: Set once a `reset` was queued, so an overflowing queue gets one, not many.
    behind: bool = field(default=False)

    async def next(self) -> FeedEvent | Signal:
        return await self.queue.get()


class EventFeed:
    def __init__(self, epoch: str, limits: FeedLimits | None = None) -> None:
        self.limits = limits or FeedLimits()
        self._epoch = epoch
        self._seq = 0
        self._ring = EventRing(self.limits.ring_size)
        self._subscribers: set[Subscription] = set()
        self._open_by_subject: Counter[str] = Counter()
        self._closed = False
        #: Called with each published event (tests and the benchmark time deliveries).
        self.on_publish: Callable[[FeedEvent], None] | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def open_streams(self) -> int:
        return len(self._subscribers)

    @property
    def last_id(self) -> EventId | None:
        return EventId(self._epoch, self._seq) if self._seq else None

    def publish(
        self, kind: str, data: dict[str, Any], audience: Session | Role | None = None
    ) -> None:
        """Number, keep and hand out one event (never blocks, never raises on a slow page)."""
        if self._closed:
            return
        self._seq += 1
        event = FeedEvent(EventId(self._epoch, self._seq), kind, data, audience)
        self._ring.append(event)
        for sub in self._subscribers:
            if may_see(sub.principal, event):
                _offer(sub, event)
        if self.on_publish is not None:
            self.on_publish(event)

    def subscribe(self, principal: Principal) -> Subscription:
        """A new stream for `principal`; `TooManyStreamsError` past the per-caller cap."""
        cap = self.limits.streams_per_principal
        if self._open_by_subject[principal.subject] >= cap:
            raise TooManyStreamsError(
                f"{principal.subject!r} already has {cap} open event streams, the most "
                "allowed; close one (a page you left open?) and try again",
                retry_after_s=5,
            )
        sub = Subscription(principal, asyncio.Queue(self.limits.queue_size))
        if self._closed:
            sub.queue.put_nowait("closed")
        self._subscribers.add(sub)
        self._open_by_subject[principal.subject] += 1
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            self._open_by_subject[sub.principal.subject] -= 1
            if self._open_by_subject[sub.principal.subject] <= 0:
                del self._open_by_subject[sub.principal.subject]

    def replay(self, principal: Principal, last: EventId) -> list[FeedEvent] | None:
        """What `principal` missed after `last`, or None if it cannot be resumed."""
        missed = self._ring.since(last)
        if missed is None:
            return None
        return [e for e in missed if may_see(principal, e)]

    def close(self) -> None:
        """End every open stream (the app is stopping); later subscribers end at once."""
        self._closed = True
        for sub in self._subscribers:
            _force(sub, "closed")


def may_see(principal: Principal, event: FeedEvent) -> bool:
    audience = event.audience
    if isinstance(audience, Role):  # what only that role may read (`/v1/pool`: operators)
        return principal.role is audience
    return audience is None or access.can_see(principal, audience)


def _offer(sub: Subscription, event: FeedEvent) -> None:
    if sub.behind:
        return
    if sub.queue.qsize() >= sub.queue.maxsize - 1:  # keep one place for the reset
        sub.behind = True
        sub.queue.put_nowait("reset")
        return
    sub.queue.put_nowait(event)


def _force(sub: Subscription, signal: Signal) -> None:
    """Queue `signal` even on a full queue (dropping the oldest waiting item)."""
    if sub.queue.full():
        sub.queue.get_nowait()
    sub.queue.put_nowait(signal)
