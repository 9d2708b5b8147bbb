"""Session (signalling) tokens: minted with one streamer's key, they open exactly one
session — the heart of the warm-pool claim handshake (docs/orchestrator.md)."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from orchestrator.errors import AuthenticationError, SessionTokenRejectedError
from orchestrator.tokens import (
    STREAMER_AUDIENCE,
    SessionRole,
    mint_session_token,
    verify_session_token,
)

KEY_A = secrets.token_urlsafe(32)
KEY_B = secrets.token_urlsafe(32)


def mint(key: str = KEY_A, session_id: str = "s-a", ttl: float = 60.0) -> str:
    return mint_session_token(
        key, session_id=session_id, role=SessionRole.TRAINEE, subject="alice",
        now=time.time(), ttl_s=ttl,
    ).token  # fmt: skip


def test_a_token_carries_the_claims_the_streamer_contract_names() -> None:
    claims = jwt.decode(mint(), KEY_A, algorithms=["HS256"], audience=STREAMER_AUDIENCE)
    assert claims["sid"] == "s-a"
    assert claims["role"] == "trainee"
    assert claims["sub"] == "alice"
    assert claims["aud"] == "ixstream-streamer"
    assert claims["exp"] > time.time()


def test_a_token_opens_its_own_session() -> None:
    claims = verify_session_token(KEY_A, mint(), session_id="s-a")
    assert (claims.subject, claims.role) == ("alice", SessionRole.TRAINEE)


def test_a_token_for_session_a_cannot_open_session_b_with_its_own_key() -> None:
    # Session B's streamer has its own key: A's token fails on the signature.
    with pytest.raises(SessionTokenRejectedError, match="Signature verification failed"):
        verify_session_token(KEY_B, mint(KEY_A, "s-a"), session_id="s-b")


def test_a_token_for_another_session_id_is_refused_even_with_the_same_key() -> None:
    with pytest.raises(SessionTokenRejectedError, match="another session"):
        verify_session_token(KEY_A, mint(KEY_A, "s-a"), session_id="s-b")


def test_an_expired_token_is_refused() -> None:
    expired = mint_session_token(
        KEY_A, session_id="s-a", role=SessionRole.SPECTATOR, subject="x",
        now=time.time() - 120, ttl_s=60,
    ).token  # fmt: skip
    with pytest.raises(SessionTokenRejectedError, match="expired"):
        verify_session_token(KEY_A, expired, session_id="s-a")


def test_garbage_is_an_authentication_error_not_a_rejection() -> None:
    with pytest.raises(AuthenticationError, match="cannot be parsed"):
        verify_session_token(KEY_A, "not-a-jwt", session_id="s-a")


def test_a_token_for_another_audience_is_refused() -> None:
    other = jwt.encode(
        {"sid": "s-a", "role": "trainee", "aud": "someone-else", "exp": time.time() + 60},
        KEY_A,
        algorithm="HS256",
    )
    with pytest.raises(SessionTokenRejectedError, match=r"(?i)audience"):
        verify_session_token(KEY_A, other, session_id="s-a")
