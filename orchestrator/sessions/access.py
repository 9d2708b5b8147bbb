"""Who may do what to a session: pure rules, raised as `PermissionDeniedError` (403).

- trainee: creates sessions; sees, spectates and ends only their own.
- instructor: creates sessions; sees and spectates every session (to observe
  trainees); directs (scenario commands) and ends their own sessions and trainees'
  sessions, never another instructor's.
- operator: everything.

Ending is one rule (`require_end`) whichever way it is asked for: `DELETE
/v1/sessions/{id}` and the scenario command `end` both call it, so the instructor
console's End button and the API cannot disagree (docs/orchestrator.md, "Who may end
a session").
"""

from __future__ import annotations

from orchestrator.errors import PermissionDeniedError
from orchestrator.identity import Principal, Role
from orchestrator.sessions.models import Session


def can_see(principal: Principal, session: Session) -> bool:
    return principal.role is not Role.TRAINEE or session.owner == principal.subject


def can_end(principal: Principal, session: Session) -> bool:
    if principal.role is Role.OPERATOR or session.owner == principal.subject:
        return True
    return principal.role is Role.INSTRUCTOR and session.owner_role is Role.TRAINEE


def can_direct(principal: Principal, session: Session) -> bool:
    """Scenario commands: instructors and operators, on the sessions they may end."""
    return principal.role is not Role.TRAINEE and can_end(principal, session)


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
            f"session {session.id} belongs to {session.owner_role.value} "
            f"{session.owner!r}; only its owner, an operator, or an instructor (for a "
            f"trainee's session) may end it, and you are {principal.role.value} "
            f"{principal.subject!r}"
        )


def require_direct(principal: Principal, session: Session) -> None:
    """Scenario commands; `end` among them is also `require_end`'s rule."""
    require_see(principal, session)
    if principal.role is Role.TRAINEE:
        raise PermissionDeniedError(
            f"only instructors and operators may command a scenario; you are {principal.role.value}"
        )
    require_end(principal, session)
