"""Whether a streamer no session of this replica owns may be reaped (DESIGN.md §3).

A pure decision over what the reaper knows of one streamer: whether the warm pool
owns it, whether it is bound to a session, that session's state where this replica
knows it, and otherwise the session state the backend recorded for it. Where several
replicas share a cluster, each knows only its own sessions: a pod bound to another's
session is left alone until the state mirrored onto it says the session is over
(`ending` counts, as the replica that owns it may have died before its delete, and a
second delete is harmless). A backend no other replica shares answers that question
from its own knowledge (`SessionBackend.recorded_session_state`).
"""

from __future__ import annotations

from orchestrator.sessions.states import TERMINAL_STATES, SessionState

#: Recorded session states that let any replica reap the session's streamer.
OVER_STATES = frozenset(state.value for state in (SessionState.ENDING, *TERMINAL_STATES))


def recorded_over(recorded_state: str | None) -> bool:
    """Whether the session state recorded on a streamer says its session is over."""
    return recorded_state in OVER_STATES


def may_reap(
    *,
    pool_owns: bool,
    bound: bool,
    known_state: SessionState | None,
    recorded_state: str | None,
) -> bool:
    """Whether to stop a streamer: not the pool's, and either unbound or bound to a
    session that is over (`known_state`, this replica's; else `recorded_state`)."""
    if pool_owns:
        return False
    if not bound:
        return True
    if known_state is not None:
        return known_state in TERMINAL_STATES
    return recorded_over(recorded_state)
