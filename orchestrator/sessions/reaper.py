"""The reaper (DESIGN.md §3): stops streamers that no live session and no pool owns.

It lists every streamer the backend manages and asks the pure rule (`orphans.py`) about
each; the facts come from the warm pool (`owns`), this replica's sessions, and the
session state the backend recorded for streamers bound to sessions it does not know.
"""

from __future__ import annotations

from orchestrator.audit import SYSTEM_ACTOR, AuditAction, AuditLog
from orchestrator.backends.base import SessionBackend, Streamer, WarmSupply
from orchestrator.sessions.orphans import may_reap
from orchestrator.sessions.registry import SessionRegistry


class Reaper:
    def __init__(
        self,
        *,
        backend: SessionBackend,
        pool: WarmSupply,
        sessions: SessionRegistry,
        audit: AuditLog,
    ) -> None:
        self._backend = backend
        self._pool = pool
        self._sessions = sessions
        self._audit = audit

    async def reap(self) -> None:
        """Stop every orphan now (audited as `streamer.reap`, reason `orphan`)."""
        for streamer in await self._backend.list():
            if not self.is_orphan(streamer):
                continue
            self._audit.record(
                AuditAction.REAP,
                actor=SYSTEM_ACTOR,
                session_id=streamer.session_id,
                streamer=streamer.id,
                reason="orphan",
            )
            await self._backend.delete(streamer.id)

    def is_orphan(self, streamer: Streamer) -> bool:
        known = self._sessions.find(streamer.session_id) if streamer.session_id else None
        return may_reap(
            pool_owns=self._pool.owns(streamer),
            bound=streamer.session_id is not None,
            known_state=known.state if known is not None else None,
            recorded_state=self._backend.recorded_session_state(streamer.id),
        )
