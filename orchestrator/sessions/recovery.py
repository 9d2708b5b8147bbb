"""Recovery after a restart: match what the journal says with what the backend runs.

Nothing leaks and nothing is silently lost (docs/orchestrator.md, "Restart"):

- a journalled session whose streamer lives is re-adopted where it stood (the service
  resumes its lifecycle: `resume`), one whose streamer is gone fails with
  `lost_on_restart`, and a queued one is queued again, in its original order;
- a streamer no journalled session claims joins the warm pool (`WarmSupply.adopt`), is
  left to the replica whose session it serves, or is stopped (`streamer.reap`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from orchestrator.audit import SYSTEM_ACTOR, AuditAction, AuditLog
from orchestrator.backends.base import SessionBackend, Streamer, WarmSupply
from orchestrator.sessions.admission import Admission
from orchestrator.sessions.journal import SessionJournal
from orchestrator.sessions.models import Session
from orchestrator.sessions.orphans import recorded_over
from orchestrator.sessions.registry import SessionRegistry
from orchestrator.sessions.states import FailureReason, SessionState

log = structlog.get_logger("orchestrator.sessions")

#: Fails a session (the service's `_fail`): session, reason, detail.
Fail = Callable[[Session, str, str | None], None]
#: Carries on the lifecycle of a session whose streamer lives (the service's `_resume`).
Resume = Callable[[Session, Streamer], Awaitable[None]]


def readable_sessions(records: list[dict[str, Any]]) -> list[Session]:
    """The journal's sessions in creation order; an unreadable record is logged, skipped."""
    sessions = []
    for record in sorted(records, key=lambda r: float(r.get("created_at", 0))):
        try:
            sessions.append(Session.from_json(record))
        except (KeyError, ValueError, TypeError) as exc:
            log.error("recover.unreadable_session", record=record.get("id"), error=repr(exc))
    return sessions


def pair(
    sessions: list[Session], streamers: list[Streamer]
) -> tuple[list[tuple[Session, Streamer | None]], list[Streamer]]:
    """Each session with the streamer bound to it (or None), and the streamers left over."""
    bound = {s.session_id: s for s in streamers if s.session_id}
    paired = [(session, bound.pop(session.id, None)) for session in sessions]
    claimed = {streamer.id for _, streamer in paired if streamer is not None}
    return paired, [s for s in streamers if s.id not in claimed]


class Recovery:
    def __init__(
        self,
        *,
        backend: SessionBackend,
        pool: WarmSupply,
        journal: SessionJournal,
        sessions: SessionRegistry,
        admission: Admission,
        audit: AuditLog,
        fail: Fail,
        resume: Resume,
    ) -> None:
        self._backend = backend
        self._pool = pool
        self._journal = journal
        self._sessions = sessions
        self._admission = admission
        self._audit = audit
        self._fail = fail
        self._resume = resume

    async def run(self) -> None:
        sessions = readable_sessions(self._journal.load_all())
        paired, unclaimed = pair(sessions, await self._backend.list())
        for session, streamer in paired:
            self._sessions.add(session)
            if streamer is None:
                self._account_for_lost(session)
            else:
                await self._readopt(session, streamer)
        for streamer in unclaimed:
            await self._settle_unclaimed(streamer)

    def _account_for_lost(self, session: Session) -> None:
        """A journalled session without a streamer: queued again if it was waiting,
        else failed."""
        if session.state is not SessionState.PENDING:
            self._fail(
                session,
                FailureReason.LOST_ON_RESTART,
                "the orchestrator restarted and found no streamer for this session",
            )
            return
        self._admission.enqueue(session)
        self._audit.record(
            AuditAction.ADOPT, actor=SYSTEM_ACTOR, session_id=session.id, state="pending"
        )

    async def _readopt(self, session: Session, streamer: Streamer) -> None:
        session.streamer = streamer
        observation = await self._backend.observe(streamer.id)
        if not observation.alive:
            self._fail(
                session,
                FailureReason.LOST_ON_RESTART,
                f"the orchestrator restarted and the streamer was gone: {observation.detail}",
            )
            return
        await self._resume(session, streamer)
        self._audit.record(
            AuditAction.ADOPT,
            actor=SYSTEM_ACTOR,
            session_id=session.id,
            streamer=streamer.id,
            state=session.state.value,
        )
        log.info("session.readopted", session=session.id, state=session.state.value)

    async def _settle_unclaimed(self, streamer: Streamer) -> None:
        """Adopt `streamer` into the pool, leave it to the replica whose session it
        serves, or stop it."""
        if streamer.session_id is None:
            if await self._pool.adopt(streamer):
                return
            why = "a warm streamer that is dead or of another profile"
        elif not recorded_over(self._backend.recorded_session_state(streamer.id)):
            return  # another replica's session, still running
        else:
            why = "bound to a session nobody knows"
        self._audit.record(
            AuditAction.REAP,
            actor=SYSTEM_ACTOR,
            session_id=streamer.session_id,
            streamer=streamer.id,
            reason=why,
        )
        await self._backend.delete(streamer.id)
