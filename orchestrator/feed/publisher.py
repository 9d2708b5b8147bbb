"""Session changes → feed events: the one method the session service calls.

Every transition (and a new session) publishes a `session` event carrying the
session as `GET /v1/sessions/{id}` shows it (the `render` function the API edge
supplies, so the two cannot drift), without its owner's signalling token, which a
page fetches with `GET` when it needs one. Queue positions move when a session ahead
leaves the queue; each move is a `session` event for the session that moved. An
instructor's command publishes the scenario's new snapshot (`scenario`), and each pull
of a scenario's log its new entries (`scenario-log`). The warm pool's figures are a
`pool` event for operators whenever the reconcile loop finds them changed.

Publishing is a side effect of the lifecycle, never a part of it: an error in making
an event is logged and the event dropped, so a page may miss a change (and catch up on
its next snapshot) but a session never fails to move because of the feed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from orchestrator.feed.hub import EventFeed
from orchestrator.identity import Role
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import TERMINAL_STATES

log = structlog.get_logger("orchestrator.feed")

SESSION_EVENT = "session"
SCENARIO_EVENT = "scenario"
SCENARIO_LOG_EVENT = "scenario-log"
POOL_EVENT = "pool"
#: Every event type the stream carries (`ready` and `reset` are the route's own).
EVENT_TYPES = ("ready", SESSION_EVENT, POOL_EVENT, SCENARIO_EVENT, SCENARIO_LOG_EVENT, "reset")

Render = Callable[[Session], dict[str, Any]]
#: The queued sessions with their positions.
Queued = Callable[[], Iterable[tuple[Session, int | None]]]


class SessionPublisher:
    def __init__(self, feed: EventFeed) -> None:
        self.feed = feed
        self._render: Render | None = None
        self._queued: Queued = lambda: ()
        self._positions: dict[str, int | None] = {}
        self._pool: Callable[[], dict[str, Any]] = dict
        self._last_pool: dict[str, Any] | None = None

    def bind(self, render: Render, queued: Queued, pool: Callable[[], dict[str, Any]]) -> None:
        """How sessions and the pool look (the API's views) and where the queue stands;
        until bound (the service is being built) nothing is published."""
        self._render = render
        self._queued = queued
        self._pool = pool

    def pool_checked(self) -> None:
        """The warm pool may have moved (the reconcile loop ran): publish its figures if
        they changed, to operators only, as `GET /v1/pool` is."""
        if self._render is None:
            return
        with _contained("pool"):
            figures = self._pool()
            if figures != self._last_pool:
                self._last_pool = figures
                self.feed.publish(POOL_EVENT, figures, Role.OPERATOR)

    def session_changed(self, session: Session) -> None:
        """Publish `session`, then every queued session whose position moved."""
        if self._render is None:
            return
        with _contained("session"):
            self._publish(session)
            for waiting, position in self._queued():
                if waiting is not session and self._positions.get(waiting.id) != position:
                    self._publish(waiting)
            if session.state in TERMINAL_STATES:
                self._positions.pop(session.id, None)

    def scenario_changed(self, session: Session, snapshot: dict[str, Any]) -> None:
        """A scenario's new state (after an instructor's command): the console shows it."""
        with _contained("scenario"):
            self.feed.publish(SCENARIO_EVENT, {"session_id": session.id, **snapshot}, session)

    def scenario_logged(self, session: Session, entries: list[dict[str, Any]]) -> None:
        """New after-action log entries (a trigger fired, the trainee started, a
        caption...): what happened in the scene, which the console shows."""
        with _contained("scenario-log"):
            data = {"session_id": session.id, "entries": entries}
            self.feed.publish(SCENARIO_LOG_EVENT, data, session)

    def _publish(self, session: Session) -> None:
        assert self._render is not None
        data = self._render(session)
        self._positions[session.id] = data.get("queue_position")
        self.feed.publish(SESSION_EVENT, data, session)


@contextmanager
def _contained(kind: str) -> Iterator[None]:
    """Log and drop an event that could not be made (see the module's docstring)."""
    try:
        yield
    except Exception:
        log.exception("feed.publish_failed", kind=kind)
