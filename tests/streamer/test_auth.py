"""Viewer tokens: the right token opens the session; every wrong one is refused with 401/403."""

from __future__ import annotations

import jwt
import pytest

from streamer.auth import (
    AUDIENCE,
    AuthError,
    Role,
    ViewerClaims,
    bearer_token,
    generate_secret,
    may_end,
    mint_token,
    verify_token,
)

SECRET = generate_secret()


def test_a_minted_token_verifies_with_its_role_and_session() -> None:
    claims = verify_token(mint_token(SECRET, "spectator", "s1", subject="ana"), SECRET, "s1")
    assert (claims.role, claims.session_id, claims.subject) == ("spectator", "s1", "ana")


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("", 401), ("Basic abc", 401), ("Bearer ", 401), ("Bearer not-a-jwt", 401)],
)
def test_missing_or_malformed_authorization_is_401(header: str | None, status: int) -> None:
    with pytest.raises(AuthError) as caught:
        verify_token(bearer_token(header), SECRET, None)
    assert caught.value.status == status


def test_a_token_signed_with_another_key_is_403() -> None:
    with pytest.raises(AuthError) as caught:
        verify_token(mint_token(generate_secret(), "trainee", None), SECRET, None)
    assert caught.value.status == 403


def test_a_token_for_another_session_is_403() -> None:
    with pytest.raises(AuthError, match="another session") as caught:
        verify_token(mint_token(SECRET, "trainee", "s2"), SECRET, "s1")
    assert caught.value.status == 403


def test_an_expired_token_is_403() -> None:
    with pytest.raises(AuthError, match="expired"):
        verify_token(mint_token(SECRET, "trainee", None, ttl_s=-10), SECRET, None)


def test_an_operator_token_may_not_view() -> None:
    token = jwt.encode({"sub": "x", "role": "operator", "aud": AUDIENCE, "exp": 2**40}, SECRET)
    with pytest.raises(AuthError, match="role"):
        verify_token(token, SECRET, None)


def test_a_token_for_another_audience_is_403() -> None:
    token = jwt.encode({"sub": "x", "role": "trainee", "aud": "orchestrator", "exp": 2**40}, SECRET)
    with pytest.raises(AuthError) as caught:
        verify_token(token, SECRET, None)
    assert caught.value.status == 403


TRAINEE = ViewerClaims(subject="alice", role="trainee", session_id="s1")


@pytest.mark.parametrize(
    ("subject", "role", "session", "allowed"),
    [
        ("alice", "trainee", "s1", True),  # the token that created it
        ("bob", "instructor", "s1", True),  # an instructor of the session
        ("ops", "orchestrator", "s1", True),  # the orchestrator, for an operator
        ("alice", "spectator", "s1", False),  # the same person, in another role
        ("bob", "spectator", "s1", False),
        ("bob", "trainee", "s1", False),
        ("bob", "instructor", "s2", False),  # an instructor of another session
    ],
)
def test_only_the_creator_an_instructor_or_the_orchestrator_may_end_a_resource(
    subject: str, role: Role, session: str, allowed: bool
) -> None:
    refusal = may_end(TRAINEE, ViewerClaims(subject=subject, role=role, session_id=session))
    assert (refusal is None) is allowed
