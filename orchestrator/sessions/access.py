"""Who may do what to a session: pure rules, raised as `PermissionDeniedError` (403).

- trainee: creates sessions; sees, spectates and ends only their own.
- instructor: creates sessions; sees and spectates every session (to observe
  trainees); ends only their own.
- operator: everything.
"""

from __future__ import annotations

from orchestrator.errors import PermissionDeniedError
from orchestrator.identity import Principal, Role
from orchestrator.sessions.models import Session


def can_see(principal: Principal, session: Session) -> bool:
    return principal.role is not Role.TRAINEE or session.owner == principal.subject


def can_end(principal: Principal, session: Session) -> bool:
    return principal.role is Role.OPERATOR or session.owner == principal.subject


def require_see(principal: Principal, session: Session) -> None:
    if not can_see(principal, session):
        raise PermissionDeniedError(
            f"session {session.id} belongs to another user; a trainee may only see "
            "their own sessions"
        )


def require_end(principal: Principal, session: Session) -> None:
    require_see(principal, session)
    if not can_end(principal, session):
        raise PermissionDeniedError(
            f"session {session.id} belongs to {session.owner!r}; only its owner or an "
            f"operator may end it, and you are {principal.role.value} {principal.subject!r}"
        )
