"""The person a session is started for is its trainee, whatever else their account may
do: an operator or instructor trying a scenario from the launcher gets a trainee's
session token, so their connection drives the scene and starts the scenario (the
README's own walk-through used to stall on "no trainee has connected yet")."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import jwt
import pytest

from orchestrator.identity import Role
from tests.orchestrator.conftest import Harness, auth
from tests.waiting import eventually


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
async def test_whoever_starts_a_session_gets_the_trainees_token_for_it(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]], role: Role
) -> None:
    async with make_app() as app:
        created = await app.client.post("/v1/sessions", json={}, headers=auth("pat", role))
        assert created.status_code == 201, created.text
        path = f"/v1/sessions/{created.json()['id']}"
        session: dict[str, object] = {}

        async def has_token() -> bool:
            session.update((await app.client.get(path, headers=auth("pat", role))).json())
            return bool(session.get("token"))

        await eventually(has_token, 60, "the owner's session token")
        claims = jwt.decode(str(session["token"]), options={"verify_signature": False})
        assert claims["role"] == "trainee"
        assert claims["sub"] == "pat"
        await app.client.delete(path, headers=auth("pat", role))
