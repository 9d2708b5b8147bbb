"""Every response that hands a browser a WHEP URL with a token carries the ICE servers
for it (issue 11): static STUN/TURN as configured, plus TURN with TURN REST API
credentials minted for this session when asked; none at all when nothing is
configured; documented in the OpenAPI schema; the credentials never in a log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from orchestrator.identity import Role
from tests.orchestrator.conftest import Harness, auth
from tests.waiting import eventually

TURN_SECRET = "turn-rest-secret-for-the-api-tests-7Qz"
ICE = {
    "servers": [{"urls": ["stun:stun.site.internal:3478"]}],
    "turn_uris": ["turn:turn.site.internal:3478?transport=udp", "turns:turn.site.internal:443"],
    "turn_secret": TURN_SECRET,
    "turn_ttl_s": 900,
}


def check_turn(server: dict[str, Any], session_id: str, ttl_s: int) -> None:
    assert server["urls"] == ICE["turn_uris"]
    expiry, subject = server["username"].split(":")
    assert subject == session_id
    assert ttl_s - 30 <= int(expiry) - time.time() <= ttl_s
    digest = hmac.new(TURN_SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(digest).decode()


async def owned_session(app: Harness, who: str = "pat") -> dict[str, Any]:
    created = await app.client.post("/v1/sessions", json={}, headers=auth(who))
    assert created.status_code == 201, created.text
    session: dict[str, Any] = dict(created.json())

    async def has_token() -> bool:
        session.update(
            (await app.client.get(f"/v1/sessions/{session['id']}", headers=auth(who))).json()
        )
        return bool(session.get("token"))

    await eventually(has_token, 60, "the owner's session token")
    return session


async def test_owners_and_spectators_get_turn_credentials_for_the_session_and_others_none(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
    capfd: pytest.CaptureFixture[str],
) -> None:
    async with make_app(ice=ICE) as app:
        session = await owned_session(app)
        stun, turn = session["ice_servers"]
        assert stun == {
            "urls": ["stun:stun.site.internal:3478"],
            "username": None,
            "credential": None,
        }
        check_turn(turn, session["id"], 900)

        path = f"/v1/sessions/{session['id']}"
        looking = (await app.client.get(path, headers=auth("ivy", Role.INSTRUCTOR))).json()
        assert looking["token"] is None
        assert looking["ice_servers"] == []  # no token, nothing to connect with
        listed = (await app.client.get("/v1/sessions", headers=auth("ivy", Role.INSTRUCTOR))).json()
        assert all(item["ice_servers"] == [] for item in listed["items"])

        joined = await app.client.post(f"{path}/spectators", headers=auth("ivy", Role.INSTRUCTOR))
        assert joined.status_code == 201, joined.text
        _, spectator_turn = joined.json()["ice_servers"]
        check_turn(spectator_turn, session["id"], 900)
        await app.client.delete(path, headers=auth("pat"))
        credentials = {turn["credential"], spectator_turn["credential"]}
        audit = app.settings.audit_path.read_text()
    out, err = capfd.readouterr()
    for credential in credentials:
        assert credential not in out + err + audit


async def test_without_configuration_no_ice_server_is_handed_out(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app() as app:
        session = await owned_session(app)
        assert session["ice_servers"] == []
        joined = await app.client.post(
            f"/v1/sessions/{session['id']}/spectators", headers=auth("ivy", Role.INSTRUCTOR)
        )
        assert joined.json()["ice_servers"] == []
        await app.client.delete(f"/v1/sessions/{session['id']}", headers=auth("pat"))


async def test_the_openapi_schema_documents_ice_servers_where_a_whep_url_is_given(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app() as app:
        schemas = (await app.client.get("/openapi.json")).json()["components"]["schemas"]
    for model in ("SessionOut", "SpectatorJoin"):
        field = schemas[model]["properties"]["ice_servers"]
        assert field["items"] == {"$ref": "#/components/schemas/IceServerOut"}
        assert "fresh for each caller" in field["description"]
    assert set(schemas["IceServerOut"]["properties"]) == {"urls", "username", "credential"}
