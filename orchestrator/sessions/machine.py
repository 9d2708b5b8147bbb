"""Applying a transition: validate it, timestamp it, remember it.

The service calls `advance` for every state change and then logs, counts and journals
the returned `Transition`; keeping this step pure makes the rules testable without
processes, clocks or I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.errors import IllegalTransitionError
from orchestrator.sessions.states import SessionState, can_transition


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change, as it appears in the session's history and in the logs."""

    source: SessionState | None
    target: SessionState
    at: float
    reason: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class Lifecycle:
    """A session's current state plus every transition that led to it."""

    state: SessionState = SessionState.PENDING
    reason: str | None = None
    detail: str | None = None
    history: list[Transition] = field(default_factory=list)

    @classmethod
    def begin(cls, at: float) -> Lifecycle:
        """A new lifecycle, in `pending`, with its creation recorded."""
        return cls(history=[Transition(None, SessionState.PENDING, at)])

    def advance(
        self,
        target: SessionState,
        at: float,
        reason: str | None = None,
        detail: str | None = None,
    ) -> Transition:
        """Move to `target`, or raise `IllegalTransitionError` and change nothing."""
        if not can_transition(self.state, target):
            raise IllegalTransitionError(
                f"a session cannot go from {self.state.value} to {target.value}"
            )
        step = Transition(self.state, target, at, reason, detail)
        self.state = target
        if reason is not None:
            self.reason, self.detail = reason, detail
        self.history.append(step)
        return step

    def entered_at(self, state: SessionState) -> float | None:
        """When the session last entered `state`, if it ever did."""
        for step in reversed(self.history):
            if step.target is state:
                return step.at
        return None
