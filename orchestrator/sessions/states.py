"""The session states and the transitions between them (DESIGN.md §3).

Modelled on Agones' GameServer states: a session is `pending` while it waits for
capacity, `starting` while a streamer is being claimed or spawned, `ready` once its
streamer can take a WHEP offer, `active` while a client is connected, `ending` while its
streamer is being stopped, and `ended` after. `failed` (with a reason) can be reached
from every state that is not already terminal.

The table is data, not code, so the unit tests can walk every pair of states.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class SessionState(StrEnum):
    PENDING = "pending"
    STARTING = "starting"
    READY = "ready"
    ACTIVE = "active"
    ENDING = "ending"
    ENDED = "ended"
    FAILED = "failed"


S = SessionState

ALLOWED_TRANSITIONS: Mapping[SessionState, frozenset[SessionState]] = {
    # A queued session can be cancelled (ending → ended) before it ever gets a streamer.
    S.PENDING: frozenset({S.STARTING, S.ENDING, S.FAILED}),
    S.STARTING: frozenset({S.READY, S.ENDING, S.FAILED}),
    S.READY: frozenset({S.ACTIVE, S.ENDING, S.FAILED}),
    # Active stays active when the last viewer leaves: the idle timeout ends it.
    S.ACTIVE: frozenset({S.ENDING, S.FAILED}),
    S.ENDING: frozenset({S.ENDED, S.FAILED}),
    S.ENDED: frozenset(),
    S.FAILED: frozenset(),
}

TERMINAL_STATES: frozenset[SessionState] = frozenset({S.ENDED, S.FAILED})

#: States in which a session holds a streamer (or is about to) and so counts against
#: `max_sessions`. `ending` counts until its process is gone, so capacity is never
#: over-committed while a streamer is still shutting down.
CAPACITY_STATES: frozenset[SessionState] = frozenset({S.STARTING, S.READY, S.ACTIVE, S.ENDING})

#: States in which the session's streamer accepts WHEP offers.
SIGNALLING_STATES: frozenset[SessionState] = frozenset({S.READY, S.ACTIVE})


class FailureReason(StrEnum):
    """Why a session failed. A closed set: it labels the failures metric."""

    SPAWN_FAILED = "spawn_failed"
    """The backend could not start a streamer process or pod."""
    START_TIMEOUT = "start_timeout"
    """A streamer did not report ready within `start_timeout_s`."""
    STREAMER_EXITED = "streamer_exited"
    """The session's streamer died while serving (crash, OOM, kill -9)."""
    NODE_LOST = "node_lost"
    """The streamer's node stopped answering (Kubernetes `NodeLost`): the pod is gone
    with it; the streamer itself did nothing wrong."""
    EVICTED = "evicted"
    """The kubelet evicted the streamer's pod (node memory or disk pressure)."""
    STREAMER_UNRESPONSIVE = "streamer_unresponsive"
    """The streamer's process lives but its HTTP status stopped answering."""
    LOST_ON_RESTART = "lost_on_restart"
    """The orchestrator restarted and the session's streamer was gone."""
    BACKEND_ERROR = "backend_error"
    """The backend failed in a way not covered above (see the detail)."""
    STOP_FAILED = "stop_failed"
    """Stopping the streamer failed; the process may have leaked (see the detail)."""
    CONFIGURE_FAILED = "configure_failed"
    """The streamer refused or did not take the session's scenario document or
    recording setting (`PUT /v1/scenario`; the detail has its message)."""


class EndReason(StrEnum):
    """Why a session ended normally. A closed set, like `FailureReason`."""

    DELETED = "deleted"
    IDLE_TIMEOUT = "idle_timeout"
    MAX_DURATION = "max_duration"
    SHUTDOWN = "orchestrator_shutdown"
    SCENARIO_ENDED = "scenario_ended"
    """The session's scenario ended: an instructor's `end` command, or a trigger's `end`
    effect (then after `scenario_end_grace_s`)."""


def can_transition(current: SessionState, target: SessionState) -> bool:
    """Whether the state machine allows `current → target`."""
    return target in ALLOWED_TRANSITIONS[current]
