"""Session changes as feed events: a queued session whose place in line moved is
published again, one whose place did not is not, and an event that cannot be made is
dropped and logged without the change that caused it failing."""

from __future__ import annotations

from typing import Any

from structlog.testing import capture_logs

from orchestrator.backends.base import StreamerProfile
from orchestrator.feed.hub import EventFeed, Subscription
from orchestrator.feed.publisher import SessionPublisher
from orchestrator.feed.ring import FeedEvent
from orchestrator.identity import Principal, Role
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.models import Session, SessionSpec

SPEC = SessionSpec("sample", "browser", 1280, 720, 60, None)
PROFILE = StreamerProfile("scene", None, 1280, 720, 60, "h264", False, 8000)
OLGA = Principal("olga", Role.OPERATOR)


def session(session_id: str) -> Session:
    return Session(session_id, "kim", Role.TRAINEE, SPEC, PROFILE, 0.0, Lifecycle.begin(0.0))


def drained(sub: Subscription) -> list[str]:
    """The ids of the sessions published to `sub` so far."""
    items = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    return [item.data["id"] for item in items if isinstance(item, FeedEvent)]


async def test_only_queued_sessions_whose_place_moved_are_published_again() -> None:
    feed = EventFeed("e")
    operator = feed.subscribe(OLGA)
    publisher = SessionPublisher(feed)
    a, b, c = session("a"), session("b"), session("c")
    line = {"b": 1}
    publisher.bind(
        lambda s: {"id": s.id, "queue_position": line.get(s.id)},
        lambda: [(s, line[s.id]) for s in (b, c) if s.id in line],
        dict,
    )
    publisher.session_changed(b)  # b queued
    line["c"] = 2
    publisher.session_changed(c)  # c queued behind it
    publisher.session_changed(a)  # a change elsewhere: nobody in line moved
    del line["b"]
    line["c"] = 1
    publisher.session_changed(b)  # b left the line: c moved up
    assert drained(operator) == ["b", "c", "a", "b", "c"]


async def test_an_event_that_cannot_be_made_is_logged_and_dropped() -> None:
    feed = EventFeed("e")
    publisher = SessionPublisher(feed)

    def broken(_: Session) -> dict[str, Any]:
        raise KeyError("a field the view lost")

    publisher.bind(broken, lambda: [], dict)
    with capture_logs() as logs:
        publisher.session_changed(session("a"))  # does not raise into the lifecycle
    assert feed.last_id is None
    assert [(r["event"], r["kind"]) for r in logs] == [("feed.publish_failed", "session")]


async def test_the_pool_is_published_to_operators_and_only_when_it_changed() -> None:
    feed = EventFeed("e")
    publisher = SessionPublisher(feed)
    figures = {"ready": 1}
    publisher.bind(lambda s: {}, lambda: [], lambda: dict(figures))
    operator, trainee = feed.subscribe(OLGA), feed.subscribe(Principal("kim", Role.TRAINEE))
    publisher.pool_checked()
    publisher.pool_checked()  # the same figures: nothing to say
    figures["ready"] = 0
    publisher.pool_checked()
    items = [operator.queue.get_nowait() for _ in range(operator.queue.qsize())]
    assert [i.data for i in items if isinstance(i, FeedEvent)] == [{"ready": 1}, {"ready": 0}]
    assert trainee.queue.empty()
