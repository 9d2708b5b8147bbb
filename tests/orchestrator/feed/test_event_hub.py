"""The feed's fan-out: numbering and keeping events, who receives which (the access
rules of `GET /v1/sessions`), resuming from the ring, the per-caller cap on streams, a
page that falls behind, and closing."""

from __future__ import annotations

import pytest

from orchestrator.backends.base import StreamerProfile
from orchestrator.errors import TooManyStreamsError
from orchestrator.feed.hub import EventFeed, FeedLimits
from orchestrator.feed.ring import FeedEvent
from orchestrator.feed.wire import EventId
from orchestrator.identity import Principal, Role
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.models import Session, SessionSpec

ALICE = Principal("alice", Role.TRAINEE)
BOB = Principal("bob", Role.TRAINEE)
IRIS = Principal("iris", Role.INSTRUCTOR)
OLGA = Principal("olga", Role.OPERATOR)


SPEC = SessionSpec("sample", "browser", 1280, 720, 60, None)
PROFILE = StreamerProfile("scene", None, 1280, 720, 60, "h264", False, 8000)


def session_of(owner: Principal) -> Session:
    return Session("s-1", owner.subject, owner.role, SPEC, PROFILE, 0.0, Lifecycle.begin(0.0))


async def test_each_caller_gets_only_the_sessions_they_may_see() -> None:
    feed = EventFeed("e1")
    subs = {p.subject: feed.subscribe(p) for p in (ALICE, BOB, IRIS, OLGA)}
    feed.publish("session", {"id": "a"}, session_of(ALICE))
    feed.publish("notice", {"to": "everyone"})
    got = {name: sub.queue.qsize() for name, sub in subs.items()}
    assert got == {"alice": 2, "bob": 1, "iris": 2, "olga": 2}


async def test_events_are_numbered_in_order_within_an_epoch() -> None:
    feed = EventFeed("e1")
    sub = feed.subscribe(OLGA)
    for n in range(3):
        feed.publish("session", {"n": n})
    ids = [
        item.id
        for item in (sub.queue.get_nowait() for _ in range(3))
        if isinstance(item, FeedEvent)
    ]
    assert ids == [EventId("e1", 1), EventId("e1", 2), EventId("e1", 3)]
    assert feed.last_id == EventId("e1", 3)


async def test_a_resume_replays_what_was_missed_and_only_what_the_caller_may_see() -> None:
    feed = EventFeed("e1")
    feed.publish("session", {"n": 1}, session_of(ALICE))
    feed.publish("session", {"n": 2}, session_of(BOB))
    feed.publish("session", {"n": 3}, session_of(ALICE))
    missed = feed.replay(ALICE, EventId("e1", 1))
    assert missed is not None
    assert [e.data["n"] for e in missed] == [3]
    assert [e.data["n"] for e in feed.replay(OLGA, EventId("e1", 1)) or []] == [2, 3]
    assert feed.replay(OLGA, EventId("e1", 3)) == []


@pytest.mark.parametrize(
    ("last", "why"),
    [
        (EventId("e1", 1), "left the ring"),
        (EventId("e0", 5), "another run's id"),
        (EventId("e1", 99), "an id never sent"),
    ],
)
async def test_an_id_that_cannot_be_resumed_asks_for_a_reset(last: EventId, why: str) -> None:
    feed = EventFeed("e1", FeedLimits(ring_size=3))
    for n in range(6):
        feed.publish("session", {"n": n})
    assert feed.replay(OLGA, last) is None, why


async def test_a_caller_may_hold_only_so_many_streams_until_one_closes() -> None:
    feed = EventFeed("e1", FeedLimits(streams_per_principal=2))
    first, _ = feed.subscribe(ALICE), feed.subscribe(ALICE)
    with pytest.raises(TooManyStreamsError, match="already has 2 open event streams") as refused:
        feed.subscribe(ALICE)
    assert refused.value.retry_after_s > 0
    feed.subscribe(BOB)  # the cap is per caller
    feed.unsubscribe(first)
    feed.unsubscribe(first)  # twice is harmless
    feed.subscribe(ALICE)
    assert feed.open_streams == 3


async def test_a_page_that_falls_behind_gets_one_reset_not_an_endless_backlog() -> None:
    feed = EventFeed("e1", FeedLimits(queue_size=4))
    sub = feed.subscribe(OLGA)
    for n in range(20):
        feed.publish("session", {"n": n})
    items = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    assert [i.data["n"] for i in items if isinstance(i, FeedEvent)] == [0, 1, 2]
    assert items[-1] == "reset"
    sub.behind = False  # the route does this once it sent the reset
    feed.publish("session", {"n": 20})
    assert isinstance(item := sub.queue.get_nowait(), FeedEvent)
    assert item.data["n"] == 20


async def test_closing_ends_every_stream_even_a_full_one_and_any_opened_later() -> None:
    feed = EventFeed("e1", FeedLimits(queue_size=2))
    full = feed.subscribe(OLGA)
    feed.publish("session", {"n": 1})
    feed.publish("session", {"n": 2})
    feed.close()
    items = [full.queue.get_nowait() for _ in range(full.queue.qsize())]
    assert items[-1] == "closed"
    assert await feed.subscribe(ALICE).next() == "closed"
    feed.publish("session", {"n": 3})  # after closing: dropped, nobody is left to tell
    assert feed.last_id == EventId("e1", 2)
