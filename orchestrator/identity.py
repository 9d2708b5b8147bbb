"""Who is calling: roles and the authenticated principal.

Roles follow DESIGN.md §3: a trainee runs sessions, an instructor runs and observes
them, an operator runs the platform. What each role may do to a session is decided in
`orchestrator.sessions.access`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    TRAINEE = "trainee"
    INSTRUCTOR = "instructor"
    OPERATOR = "operator"


#: Privilege order, lowest first; used when an identity provider grants several roles.
ROLE_RANK: dict[Role, int] = {Role.TRAINEE: 0, Role.INSTRUCTOR: 1, Role.OPERATOR: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the token's `sub` and its most privileged known role."""

    subject: str
    role: Role
