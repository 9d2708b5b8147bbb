"""Recovery after a restart: match what the journal says with what the backend runs.

Nothing leaks and nothing is silently lost (docs/orchestrator.md, "Restart"): every
journalled session is paired with the streamer bound to it, if any, for the service to
re-adopt or account for (`SessionService.recover`); a streamer no journalled session
claims joins the warm pool, is left to the replica whose session it serves, or is
stopped (`settle_unclaimed`).
"""

from __future__ import annotations

from typing import Any

import structlog

from orchestrator.audit import SYSTEM_ACTOR, AuditAction, AuditLog
from orchestrator.backends.base import SessionBackend, Streamer, WarmSupply
from orchestrator.sessions.models import Session
from orchestrator.sessions.orphans import recorded_over

log = structlog.get_logger("orchestrator.sessions")


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


async def settle_unclaimed(
    streamer: Streamer, *, pool: WarmSupply, backend: SessionBackend, audit: AuditLog
) -> None:
    """Adopt `streamer` into the pool, leave it to the replica whose session it serves,
    or stop it (audited as `streamer.reap`)."""
    if streamer.session_id is None:
        if await pool.adopt(streamer):
            return
        why = "a warm streamer that is dead or of another profile"
    elif not recorded_over(backend.recorded_session_state(streamer.id)):
        return  # another replica's session, still running
    else:
        why = "bound to a session nobody knows"
    audit.record(
        AuditAction.REAP,
        actor=SYSTEM_ACTOR,
        session_id=streamer.session_id,
        streamer=streamer.id,
        reason=why,
    )
    await backend.delete(streamer.id)
