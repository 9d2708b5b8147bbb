"""Who may see, direct and end which session: trainees their own, instructors see all
and direct and end their own and trainees', operators do all. One table for ending,
since DELETE and the scenario command `end` both ask `require_end`."""

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


peer = Principal("ian", Role.INSTRUCTOR)


@pytest.mark.parametrize(
    ("who", "session", "may_end", "may_direct"),
    [
        (alice, session_of("alice"), True, False),
        (bob, session_of("alice"), False, False),
        (teacher, session_of("alice"), True, True),
        (teacher, session_of("tina", Role.INSTRUCTOR), True, True),
        (peer, session_of("tina", Role.INSTRUCTOR), False, False),
        (ops, session_of("alice"), True, True),
        (ops, session_of("tina", Role.INSTRUCTOR), True, True),
    ],
    ids=[
        "trainee-own", "trainee-other", "instructor-a-trainees", "instructor-own",
        "instructor-another-instructors", "operator-a-trainees", "operator-an-instructors",
    ],
)  # fmt: skip
def test_one_rule_says_who_may_end_and_direct_a_session(
    who: Principal, session: Session, may_end: bool, may_direct: bool
) -> None:
    assert access.can_end(who, session) is may_end
    assert access.can_direct(who, session) is may_direct
    if not may_end:
        with pytest.raises(PermissionDeniedError, match=r"their own sessions|or an instructor"):
            access.require_end(who, session)
    if not may_direct:
        with pytest.raises(PermissionDeniedError):
            access.require_direct(who, session)


def test_an_instructor_sees_every_session() -> None:
    access.require_see(teacher, session_of("alice"))
    access.require_see(teacher, session_of("ian", Role.INSTRUCTOR))


def test_an_operator_sees_and_ends_everything() -> None:
    for session in (session_of("alice"), session_of("tina", Role.INSTRUCTOR)):
        assert access.can_see(ops, session)
        assert access.can_end(ops, session)
        access.require_end(ops, session)  # does not raise
