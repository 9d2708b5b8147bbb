"""Admission: whether a new session starts now, waits in the fair queue, or is refused.

Capacity is `max_sessions` sessions holding a slot (`starting` to `ending`). A session
starts at once only when a slot is free and nobody queues ahead of it; otherwise it
queues if the caller asked to wait (`wait=true`) and the queue has room, and is refused
with `Retry-After` if not (DESIGN.md §3, "Capacity").
"""

from __future__ import annotations

from orchestrator.errors import CapacityExhaustedError, QueueFullError
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.queue import FairQueue
from orchestrator.sessions.models import Session
from orchestrator.sessions.registry import SessionRegistry
from orchestrator.sessions.states import SessionState
from orchestrator.settings import OrchestratorSettings


class Admission:
    def __init__(
        self,
        settings: OrchestratorSettings,
        registry: SessionRegistry,
        metrics: OrchestratorMetrics,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._metrics = metrics
        self._queue = FairQueue()

    def __len__(self) -> int:
        return len(self._queue)

    def free_capacity(self) -> int:
        return self._settings.max_sessions - self._registry.holding()

    def position(self, session_id: str) -> int | None:
        return self._queue.position(session_id)

    def admit(self, *, wait: bool) -> bool:
        """True: start now. False: queue it (`enqueue`). Raises when it is refused."""
        if self.free_capacity() > 0 and len(self._queue) == 0:
            return True
        self._refuse_unless_queueable(wait)
        return False

    def enqueue(self, session: Session) -> int:
        """Queue `session`; returns its position."""
        return self._queue.push(session.id, session.owner)

    def withdraw(self, session_id: str) -> None:
        self._queue.remove(session_id)

    def next_to_start(self) -> Session | None:
        """The next queued session a free slot goes to (None: no slot, or nobody waits)."""
        while self.free_capacity() > 0 and len(self._queue):
            session = self._registry.find(self._queue.pop() or "")
            if session is not None and session.state is SessionState.PENDING:
                return session
        return None

    def _refuse_unless_queueable(self, wait: bool) -> None:
        retry = self._settings.retry_after_s
        busy = f"all {self._settings.max_sessions} session slots are in use"
        if len(self._queue):
            busy += f" and {len(self._queue)} requests are queued ahead"
        if not wait:
            self._metrics.rejections.labels("full").inc()
            raise CapacityExhaustedError(
                f"{busy}; retry later, or create with wait=true to queue", retry
            )
        if len(self._queue) >= self._settings.queue_limit:
            self._metrics.rejections.labels("queue_full").inc()
            raise QueueFullError(
                f"{busy}, and the queue is full ({self._settings.queue_limit}); retry later",
                retry,
            )
