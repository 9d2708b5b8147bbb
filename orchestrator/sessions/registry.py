"""The sessions this replica knows, by id: lookup, listing as a principal may see it,
and forgetting terminal ones after their retention."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from orchestrator.errors import SessionNotFoundError
from orchestrator.identity import Principal
from orchestrator.sessions import access
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import CAPACITY_STATES, TERMINAL_STATES, SessionState


class SessionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def add(self, session: Session) -> None:
        self._sessions[session.id] = session

    def find(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def lookup(self, session_id: str) -> Session:
        """A session regardless of who asks; raises `SessionNotFoundError`."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFoundError(
                f"no session {session_id!r} (it never existed or has expired)"
            )
        return session

    def get(self, principal: Principal, session_id: str) -> Session:
        """A session `principal` may see; raises not found or `PermissionDeniedError`."""
        session = self.lookup(session_id)
        access.require_see(principal, session)
        return session

    def visible(
        self, principal: Principal, states: set[SessionState] | None = None
    ) -> list[Session]:
        """The sessions `principal` may see (only those in `states`, if given), oldest first."""
        return sorted(
            (
                s
                for s in self._sessions.values()
                if access.can_see(principal, s) and (not states or s.state in states)
            ),
            key=lambda s: s.created_at,
        )

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))

    def in_states(self, states: frozenset[SessionState]) -> list[Session]:
        return [s for s in self._sessions.values() if s.state in states]

    def by_state(self) -> dict[SessionState, int]:
        return dict(Counter(s.state for s in self._sessions.values()))

    def holding(self) -> int:
        """Sessions holding a capacity slot (`starting` to `ending`)."""
        return sum(1 for s in self._sessions.values() if s.state in CAPACITY_STATES)

    def sweep(self, horizon: float) -> None:
        """Forget terminal sessions last changed before `horizon`."""
        for session_id in [
            s.id
            for s in self._sessions.values()
            if s.state in TERMINAL_STATES and s.updated_at < horizon
        ]:
            del self._sessions[session_id]
