"""Taking one step in a session's lifecycle, and everything that step must leave behind.

A transition is checked by the state machine (`machine.py`), then counted, logged and
journalled (a terminal one removes the session from the journal and counts its reason),
mirrored onto the session's streamer for other replicas (`mirror.py`), published to
the live feed (`announce`), and announced:
waiters for a `starting` session's outcome are released, and the service's reconcile
loop wakes to hand freed capacity on.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from orchestrator.clock import Clock
from orchestrator.learning.recorder import LearningRecorder
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.sessions.journal import SessionJournal
from orchestrator.sessions.mirror import StateMirror
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import TERMINAL_STATES, SessionState

log = structlog.get_logger("orchestrator.sessions")


class Transitions:
    def __init__(
        self,
        *,
        journal: SessionJournal,
        metrics: OrchestratorMetrics,
        clock: Clock,
        mirror: StateMirror,
        wake: Callable[[], None],
        learning: LearningRecorder | None = None,
        announce: Callable[[Session], None] = lambda _: None,
    ) -> None:
        self._journal = journal
        self._metrics = metrics
        self._clock = clock
        self._mirror = mirror
        self._wake = wake
        self._learning = learning or LearningRecorder.off()
        self._announce = announce

    def advance(
        self,
        session: Session,
        target: SessionState,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Move `session` to `target`; raises `IllegalTransitionError` if it may not."""
        step = session.lifecycle.advance(target, self._clock.now(), reason, detail)
        source = step.source.value if step.source else "none"
        self._metrics.transitions.labels(source, target.value).inc()
        log.info(
            "session.transition",
            session=session.id,
            source=source,
            target=target.value,
            reason=reason,
            detail=detail,
        )
        if target in TERMINAL_STATES:
            self._journal.remove(session.id)
            failed = target is SessionState.FAILED
            counter = self._metrics.failures if failed else self._metrics.ends
            counter.labels(reason or "unknown").inc()
        else:
            self._journal.save(session.to_json())
        if target is not SessionState.STARTING:
            session.settled.set()
        self._mirror.write(session)
        self._learning.session_moved(session)
        self._announce(session)  # the live feed (orchestrator/feed/)
        self._wake()
