"""The API's refusals, each a precise `application/problem+json`: 401 without a valid
token, 403 for the wrong role or someone else's session, 404 for an unknown session,
409/410 for signalling a session that cannot take it, 413/415 for bad offers, 422 for
invalid requests and 429 with `Retry-After` when full.

One app (max_sessions=1, no warm pool) serves the whole module; alice's session holds
its only slot with one real streamer process.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
import pytest_asyncio

from orchestrator.identity import Role
from orchestrator.tokens import SessionRole, mint_session_token
from tests.orchestrator.conftest import (
    API_SECRET,
    AUDIENCE,
    Harness,
    auth,
    running_app,
    settings_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")
PROBLEM = "application/problem+json"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    state_dir = tmp_path_factory.mktemp("api") / "state"
    async with running_app(settings_for(state_dir, max_sessions=1)) as h:
        yield h


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def alices(harness: Harness) -> dict[str, object]:
    response = await harness.client.post("/v1/sessions", json={}, headers=auth("alice"))
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def assert_problem(response: httpx.Response, status: int, detail_part: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:ixstream:problem:")
    assert detail_part in body["detail"], body["detail"]


# --- 401 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/sessions"), ("POST", "/v1/sessions"), ("GET", "/v1/sessions/s-x"),
     ("DELETE", "/v1/sessions/s-x"), ("POST", "/v1/sessions/s-x/spectators"),
     ("GET", "/v1/scenarios"), ("GET", "/v1/pool")],
)  # fmt: skip
async def test_every_api_call_without_a_token_is_401_with_a_bearer_challenge(
    harness: Harness, method: str, path: str
) -> None:
    response = await harness.client.request(method, path, json={} if method == "POST" else None)
    assert_problem(response, 401, "Authorization: Bearer")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_expired_token_is_401_invalid_token(harness: Harness) -> None:
    expired = jwt.encode(
        {"sub": "alice", "role": "trainee", "aud": AUDIENCE, "exp": time.time() - 5},
        API_SECRET, algorithm="HS256",
    )  # fmt: skip
    response = await harness.client.get(
        "/v1/sessions", headers={"Authorization": f"Bearer {expired}"}
    )
    assert_problem(response, 401, "expired")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_token_signed_with_another_key_is_401(harness: Harness) -> None:
    forged = jwt.encode(
        {"sub": "mallory", "role": "operator", "aud": AUDIENCE, "exp": time.time() + 60},
        "f" * 40, algorithm="HS256",
    )  # fmt: skip
    response = await harness.client.get(
        "/v1/sessions", headers={"Authorization": f"Bearer {forged}"}
    )
    assert_problem(response, 401, "Signature verification failed")


# --- 403 ---------------------------------------------------------------------------


async def test_a_trainee_may_not_read_the_pool_status(harness: Harness) -> None:
    response = await harness.client.get("/v1/pool", headers=auth("alice", Role.TRAINEE))
    assert_problem(response, 403, "roles operator; you are trainee")
    ok = await harness.client.get("/v1/pool", headers=auth("olga", Role.OPERATOR))
    assert ok.status_code == 200
    assert ok.json()["desired"] == 0


async def test_a_token_without_a_known_role_is_403(harness: Harness) -> None:
    token = jwt.encode(
        {"sub": "x", "role": "admin", "aud": AUDIENCE, "exp": time.time() + 60},
        API_SECRET, algorithm="HS256",
    )  # fmt: skip
    response = await harness.client.get(
        "/v1/sessions", headers={"Authorization": f"Bearer {token}"}
    )
    assert_problem(response, 403, "no known role")


async def test_a_trainee_cannot_see_or_end_another_trainees_session(
    harness: Harness, alices: dict[str, object]
) -> None:
    path = f"/v1/sessions/{alices['id']}"
    assert_problem(await harness.client.get(path, headers=auth("bob")), 403, "their own")
    assert_problem(await harness.client.delete(path, headers=auth("bob")), 403, "their own")
    spectate = await harness.client.post(f"{path}/spectators", headers=auth("bob"))
    assert_problem(spectate, 403, "their own")
    listed = await harness.client.get("/v1/sessions", headers=auth("bob"))
    assert listed.json()["count"] == 0


async def test_an_instructor_sees_every_session_but_may_not_end_another_instructors(
    harness: Harness, alices: dict[str, object]
) -> None:
    path = f"/v1/sessions/{alices['id']}"
    seen = await harness.client.get(path, headers=auth("tina", Role.INSTRUCTOR))
    assert seen.status_code == 200
    assert seen.json()["token"] is None  # only the owner gets the session token
    # A queued session of another instructor's (the one slot is alice's).
    queued = await harness.client.post(
        "/v1/sessions?wait=true", json={}, headers=auth("ian", Role.INSTRUCTOR)
    )
    assert queued.status_code == 201
    ians = f"/v1/sessions/{queued.json()['id']}"
    refused = await harness.client.delete(ians, headers=auth("tina", Role.INSTRUCTOR))
    assert_problem(refused, 403, "or an instructor (for a trainee's session) may end it")
    ended = await harness.client.delete(ians, headers=auth("ian", Role.INSTRUCTOR))
    assert ended.status_code == 202


# --- 404 ---------------------------------------------------------------------------


async def test_an_unknown_session_is_404(harness: Harness) -> None:
    for method in ("GET", "DELETE"):
        response = await harness.client.request(
            method, "/v1/sessions/s-0000000000000000", headers=auth("olga", Role.OPERATOR)
        )
        assert_problem(response, 404, "no session 's-0000000000000000'")


async def test_an_unknown_route_is_a_problem_document_too(harness: Harness) -> None:
    assert_problem(await harness.client.get("/v2/nothing"), 404, "Not Found")


# --- 422 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"width": 644}, "body.width: Input should be a multiple of 8"),
        ({"height": 242}, "body.height: Input should be a multiple of 4"),
        ({"fps": 0}, "body.fps: Input should be greater than or equal to 1"),
        ({"client": "vr"}, "body.client: Input should be 'browser' or 'headset'"),
        ({"codec": "av1"}, "body.codec: Input should be 'h264' or 'vp8'"),
        ({"colour": "red"}, "body.colour: Extra inputs are not permitted"),
        ({"scenario": "Bad Name"}, "body.scenario: String should match pattern"),
    ],
)
async def test_an_invalid_request_is_422_naming_the_field(
    harness: Harness, body: dict[str, object], detail: str
) -> None:
    response = await harness.client.post("/v1/sessions", json=body, headers=auth("carol"))
    assert_problem(response, 422, detail)
    assert response.json()["errors"]


async def test_an_unknown_scenario_is_422_listing_the_known_ones(harness: Harness) -> None:
    response = await harness.client.post(
        "/v1/sessions", json={"scenario": "moon-landing"}, headers=auth("carol")
    )
    assert_problem(response, 422, "known scenarios: sample, test-pattern")


async def test_a_bad_state_filter_is_422(harness: Harness) -> None:
    response = await harness.client.get("/v1/sessions?state=sleeping", headers=auth())
    assert_problem(response, 422, "query.state.0")


# --- 429 and the queue -------------------------------------------------------------


async def test_when_full_a_request_that_will_not_wait_is_429_with_retry_after(
    harness: Harness, alices: dict[str, object]
) -> None:
    response = await harness.client.post("/v1/sessions", json={}, headers=auth("dave"))
    assert_problem(response, 429, "all 1 session slots are in use")
    assert response.headers["retry-after"] == str(harness.settings.retry_after_s)


async def test_when_full_a_request_that_waits_is_queued_with_its_position(
    harness: Harness, alices: dict[str, object]
) -> None:
    response = await harness.client.post("/v1/sessions?wait=true", json={}, headers=auth("erin"))
    assert response.status_code == 201
    body = response.json()
    assert (body["state"], body["queue_position"], body["token"]) == ("pending", 1, None)
    assert response.headers["location"] == f"/v1/sessions/{body['id']}"
    again = await harness.client.get(f"/v1/sessions/{body['id']}", headers=auth("erin"))
    assert again.json()["queue_position"] == 1

    # A queued session has no streamer: spectating or signalling it is a 409.
    spectate = await harness.client.post(
        f"/v1/sessions/{body['id']}/spectators", headers=auth("erin")
    )
    assert_problem(spectate, 409, "queued at position 1")

    # Cancelling a queued session ends it at once (it never had a streamer).
    ended = await harness.client.delete(f"/v1/sessions/{body['id']}", headers=auth("erin"))
    assert ended.status_code == 202
    assert (ended.json()["state"], ended.json()["reason"]) == ("ended", "deleted")


# --- WHEP proxy refusals -------------------------------------------------------------


async def test_a_whep_offer_must_be_sdp(harness: Harness, alices: dict[str, object]) -> None:
    response = await harness.client.post(
        f"/v1/sessions/{alices['id']}/whep", content=b"{}",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {alices['token']}"},
    )  # fmt: skip
    assert_problem(response, 415, "must be application/sdp")


async def test_a_whep_offer_over_64_kib_is_413(harness: Harness, alices: dict[str, object]) -> None:
    response = await harness.client.post(
        f"/v1/sessions/{alices['id']}/whep", content=b"v=0\r\n" * 20000,
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {alices['token']}"},
    )  # fmt: skip
    assert_problem(response, 413, "an SDP offer is at most 65536 bytes")


async def test_a_whep_offer_without_a_token_is_401(
    harness: Harness, alices: dict[str, object]
) -> None:
    response = await harness.client.post(
        f"/v1/sessions/{alices['id']}/whep", content=b"v=0\r\n",
        headers={"Content-Type": "application/sdp"},
    )  # fmt: skip
    assert_problem(response, 401, "session token")


async def test_an_api_token_or_a_token_for_another_session_cannot_open_signalling(
    harness: Harness, alices: dict[str, object]
) -> None:
    session = harness.service.get_any(str(alices["id"]))
    assert session.streamer is not None
    other = mint_session_token(
        session.streamer.key, session_id="s-other", role=SessionRole.TRAINEE, subject="bob",
        now=time.time(), ttl_s=60,
    ).token  # fmt: skip
    for token in (other, auth("alice")["Authorization"].split()[1]):
        response = await harness.client.post(
            f"/v1/sessions/{alices['id']}/whep",
            content=b"v=0\r\n",
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 403, response.text


async def test_signalling_an_unknown_session_is_404(harness: Harness) -> None:
    response = await harness.client.post(
        "/v1/sessions/s-nope/whep", content=b"v=0\r\n",
        headers={"Content-Type": "application/sdp", "Authorization": "Bearer x"},
    )  # fmt: skip
    assert_problem(response, 404, "no session 's-nope'")


async def test_whep_offers_no_trickle_so_patch_is_the_streamers_405_with_its_allow(
    harness: Harness, alices: dict[str, object]
) -> None:
    url = f"/v1/sessions/{alices['id']}/whep/r1"
    sdpfrag = {"Content-Type": "application/trickle-ice-sdpfrag"}
    anonymous = await harness.client.patch(url, content="a=end-of-candidates\r\n", headers=sdpfrag)
    assert_problem(anonymous, 401, "session token")
    response = await harness.client.patch(
        url,
        content="a=end-of-candidates\r\n",
        headers={**sdpfrag, "Authorization": f"Bearer {alices['token']}"},
    )
    assert_problem(response, 405, "supports neither trickle ICE nor ICE restart")
    assert response.headers["Allow"] == "DELETE"
    assert "accept-patch" not in response.headers


# --- finally, the one session ends ----------------------------------------------------


async def test_ending_a_session_that_has_a_streamer_goes_through_ending(
    harness: Harness, alices: dict[str, object]
) -> None:
    response = await harness.client.delete(f"/v1/sessions/{alices['id']}", headers=auth("alice"))
    assert response.status_code == 202
    assert response.json()["state"] in ("ending", "ended")
    gone = await harness.client.post(
        f"/v1/sessions/{alices['id']}/spectators", headers=auth("alice")
    )
    assert_problem(gone, 410, f"session {alices['id']} is")


@pytest.mark.parametrize(
    "body",
    [b"[" * 200_000 + b"]" * 200_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000],
    ids=["nested-arrays", "nested-objects"],
)
async def test_json_nested_past_the_parsers_depth_is_400_not_a_crash(
    harness: Harness, body: bytes
) -> None:
    response = await harness.client.post(
        "/v1/sessions", content=body, headers={**auth("zoe"), "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "error parsing the body")
    assert (await harness.client.get("/healthz")).status_code == 200
