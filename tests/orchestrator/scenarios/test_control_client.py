"""Streamer control errors: a streamer's refusal becomes the named error for its status
(404, 409, 422; anything else: unreachable) and carries the streamer's own message,
whether it answered plain text, a JSON `detail` or FastAPI's list of validation errors.
The control token is the orchestrator's own role, bound to the session."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from orchestrator.errors import (
    SessionTokenRejectedError,
    StreamerConflictError,
    StreamerControlError,
    StreamerNothingThereError,
    StreamerRejectedError,
    StreamerUnreachableError,
)
from orchestrator.scenarios.control_client import error_for, streamer_message
from orchestrator.tokens import STREAMER_AUDIENCE, mint_control_token, verify_session_token

KEY = "streamer-key-" + "x" * 32


@pytest.mark.parametrize(
    ("status", "named"),
    [
        (404, StreamerNothingThereError),
        (409, StreamerConflictError),
        (422, StreamerRejectedError),
        (500, StreamerUnreachableError),
        (403, StreamerUnreachableError),
    ],
)
def test_each_refusal_becomes_its_named_error_with_the_streamers_message(
    status: int, named: type[StreamerControlError]
) -> None:
    error = error_for(status, "unknown instructor event 'fire'")
    assert type(error) is named
    assert "unknown instructor event 'fire'" in error.detail


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(404, text="no scenario loaded\n"), "no scenario loaded"),
        (httpx.Response(409, json={"detail": "no trainee yet"}), "no trainee yet"),
        (
            httpx.Response(
                422, json={"detail": [{"loc": ["body", "record"], "msg": "Input should be a bool"}]}
            ),
            "body.record: Input should be a bool",
        ),
        (httpx.Response(502), "Bad Gateway"),
    ],
    ids=["text", "json-detail", "validation-list", "empty"],
)
def test_the_streamers_message_is_read_from_any_of_its_error_shapes(
    response: httpx.Response, message: str
) -> None:
    assert streamer_message(response) == message


def test_a_control_token_names_the_session_and_cannot_open_whep() -> None:
    token = mint_control_token(
        KEY, session_id="s-1", subject="system:orchestrator", now=time.time()
    )
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience=STREAMER_AUDIENCE)
    assert (claims["role"], claims["sid"]) == ("orchestrator", "s-1")
    with pytest.raises(SessionTokenRejectedError, match="unknown role 'orchestrator'"):
        verify_session_token(KEY, token, session_id="s-1")
