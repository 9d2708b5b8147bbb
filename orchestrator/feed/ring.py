"""The recent events, kept so that a page which lost its stream can resume it.

A bounded ring (oldest dropped first): a page that reconnects with the id of an event
still in the ring gets every later event; one whose id has left the ring, or comes
from another run of the orchestrator, cannot be resumed and must re-fetch a snapshot
(the route sends `reset`). Memory stays bounded whatever the rate of change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator.feed.wire import EventId


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One change, with who may see it: `audience` is the object the access rules
    judge (a session), the one role that may (the pool: operators), or None for what
    every caller may see."""

    id: EventId
    kind: str
    data: dict[str, Any]
    audience: Any = None


class EventRing:
    def __init__(self, capacity: int) -> None:
        self._events: deque[FeedEvent] = deque(maxlen=capacity)

    def append(self, event: FeedEvent) -> None:
        self._events.append(event)

    def __iter__(self) -> Iterator[FeedEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def since(self, last: EventId) -> list[FeedEvent] | None:
        """The events after `last`, or None when resuming from `last` is impossible:
        it is another run's id, older than the ring's oldest kept, or newer than any
        event sent."""
        if not self._events:
            return None
        oldest, newest = self._events[0].id, self._events[-1].id
        if last.epoch != newest.epoch or last.seq > newest.seq or last.seq < oldest.seq - 1:
            return None
        return [e for e in self._events if e.id.seq > last.seq]
