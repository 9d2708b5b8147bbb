"""Who may see and end which session: trainees their own, instructors see all, operators
do all."""

from __future__ import annotations

import pytest

from orchestrator.backends.base import StreamerProfile
from orchestrator.errors import PermissionDeniedError
from orchestrator.identity import Principal, Role
from orchestrator.sessions import access
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.models import Session, SessionSpec

SPEC = SessionSpec("sample", "browser", 1280, 720, 60, None)
PROFILE = StreamerProfile("scene", None, 1280, 720, 60, "h264", False, 8000)


def session_of(owner: str, role: Role = Role.TRAINEE) -> Session:
    return Session("s-1", owner, role, SPEC, PROFILE, 0.0, Lifecycle.begin(0.0))


alice = Principal("alice", Role.TRAINEE)
bob = Principal("bob", Role.TRAINEE)
teacher = Principal("tina", Role.INSTRUCTOR)
ops = Principal("olga", Role.OPERATOR)


def test_a_trainee_sees_and_ends_their_own_session() -> None:
    own = session_of("alice")

    assert access.can_see(alice, own)
    assert access.can_end(alice, own)
    access.require_end(alice, own)  # does not raise


def test_a_trainee_may_not_see_another_trainees_session() -> None:
    with pytest.raises(PermissionDeniedError, match="their own sessions"):
        access.require_see(bob, session_of("alice"))


def test_an_instructor_sees_every_session_but_ends_only_their_own() -> None:
    access.require_see(teacher, session_of("alice"))
    with pytest.raises(PermissionDeniedError, match="only its owner or an operator"):
        access.require_end(teacher, session_of("alice"))
    access.require_end(teacher, session_of("tina", Role.INSTRUCTOR))


def test_an_operator_sees_and_ends_everything() -> None:
    for session in (session_of("alice"), session_of("tina", Role.INSTRUCTOR)):
        assert access.can_see(ops, session)
        assert access.can_end(ops, session)
        access.require_end(ops, session)  # does not raise
