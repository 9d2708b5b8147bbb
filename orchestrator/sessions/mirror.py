"""Mirroring a session's state onto its streamer, where other replicas read it.

Replicas sharing a cluster know only their own sessions, and reap a streamer bound to
someone else's only once the state recorded on it says the session is over
(`orphans.py`). The backend decides what recording means: annotations on the pod on
Kubernetes, nothing at all for local processes (`SessionBackend.annotate_session`).
"""

from __future__ import annotations

import asyncio

from orchestrator.backends.base import SessionBackend
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import TERMINAL_STATES, SessionState
from orchestrator.tasks import TaskOwner


class StateMirror:
    def __init__(self, backend: SessionBackend, tasks: TaskOwner) -> None:
        self._backend = backend
        self._tasks = tasks
        # One lock per streamer, so its mirrored session state is written in order.
        self._locks: dict[str, asyncio.Lock] = {}

    def write(self, session: Session) -> None:
        """Record `session`'s current state on its streamer, in the background."""
        if session.streamer is None or self._tasks.closed:
            return
        streamer_id = session.streamer.id
        if session.state is SessionState.ENDED:
            # `ended` follows the streamer's deletion: there is nothing left to write on.
            self._locks.pop(streamer_id, None)
            return
        lock = self._locks.setdefault(streamer_id, asyncio.Lock())
        self._tasks.spawn(self._write(session, streamer_id, lock), name="mirror")

    async def _write(self, session: Session, streamer_id: str, lock: asyncio.Lock) -> None:
        # Writes the state current when the lock is acquired, not the one that queued
        # this task: of writes racing for one pod, the last one is always the latest.
        async with lock:
            await self._backend.annotate_session(
                streamer_id, session.state.value, session.lifecycle.reason
            )
            if session.state in TERMINAL_STATES:
                self._locks.pop(streamer_id, None)
