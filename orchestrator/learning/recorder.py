"""The facts the session service knows, turned into queued statements.

Two hooks, one line each at the place the fact is known: `session_moved` after every
lifecycle transition (`sessions/transitions.py`: `active` is the trainee's launch, a
terminal state after it the session's end), and `timeline` with each page of a
session's after-action log as it is pulled (`scenarios/link.py`: triggers, instructor
events, pause and resume, the outcome), called before the page is stored, so a crash
between the two repeats the page (same statement ids, recognised) rather than losing it.

A hook never raises into the service: a statement that cannot be queued (the disk) is
logged and counted, and the session goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog

from orchestrator.learning.outbox import Outbox
from orchestrator.learning.statements import (
    SessionFacts,
    Statement,
    Vocabulary,
    from_log_entry,
    launched,
    terminated,
)
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import TERMINAL_STATES, SessionState

log = structlog.get_logger("orchestrator.learning")


class LearningRecorder:
    def __init__(
        self,
        words: Vocabulary | None,
        outbox: Outbox | None,
        metrics: OrchestratorMetrics | None,
        wake: Callable[[], None],
    ) -> None:
        self._words = words
        self._outbox = outbox
        self._metrics = metrics
        self._wake = wake

    @classmethod
    def off(cls) -> LearningRecorder:
        """Learning records not configured: every hook returns at once."""
        return cls(None, None, None, lambda: None)

    def session_moved(self, session: Session) -> None:
        """After a transition: `launched` on the first `active`, `terminated` (with the
        time since launch) when a launched session ends or fails."""
        if self._words is None:
            return
        step = session.lifecycle.history[-1]
        facts = _facts(session)
        if step.target is SessionState.ACTIVE:
            self._queue([launched(self._words, facts, step.at)])
            return
        launched_at = _launched_at(session)
        if step.target in TERMINAL_STATES and launched_at is not None:
            self._queue([terminated(self._words, facts, step.at, launched_at)])

    def timeline(self, session: Session, entries: Iterable[Mapping[str, Any]], after: int) -> None:
        """After-action log entries past `after` (the store's cursor) → statements."""
        if self._words is None:
            return
        words, facts = self._words, _facts(session)
        fresh = (e for e in entries if isinstance(e.get("seq"), int) and e["seq"] > after)
        self._queue([s for e in fresh if (s := from_log_entry(words, facts, e)) is not None])

    def _queue(self, statements: list[Statement]) -> None:
        assert self._outbox is not None
        assert self._metrics is not None
        fresh = [s for s in statements if not self._outbox.knows(str(s["id"]))]
        before = len(self._outbox)
        try:
            queued = self._outbox.add_all(fresh)
        except OSError as exc:
            queued = len(self._outbox) - before
            self._metrics.lrs_statements.labels("lost").inc(len(fresh) - queued)
            log.error("learning.queue_failed", error=repr(exc), lost=len(fresh) - queued)
        if queued:
            self._metrics.lrs_statements.labels("queued").inc(queued)
            self._wake()


def _facts(session: Session) -> SessionFacts:
    # The owner is the trainee: whoever starts a session is its trainee.
    return SessionFacts(session.id, session.owner, session.spec.scenario)


def _launched_at(session: Session) -> float | None:
    for step in session.lifecycle.history:
        if step.target is SessionState.ACTIVE:
            return step.at
    return None
