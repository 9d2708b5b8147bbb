"""CORS on a real streamer's WHEP endpoints: a player served from another origin may
use a streamer's URL directly, and only the origins it is told to admit.

Preflights (OPTIONS on `/whep` and on a resource) and real answers (201 with the SDP
answer, DELETE, errors) carry `Access-Control-*` headers for an allowed origin, with
`Location`, `Link` and `ETag` exposed; a disallowed origin is answered as before, with
no `Access-Control-Allow-Origin`, so the browser refuses. The control API, status and
probes are for the orchestrator only and never carry CORS headers. A browser playing
from another origin is `tests/web/test_foreign_whep_client.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from streamer.settings import StreamerSettings
from tests.conftest import StreamerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

Factory = Callable[..., StreamerProcess]
SMALL = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30")
PLAYER = "http://player.test:8081"
STRANGER = "http://stranger.test"


@pytest.fixture
def streamer(streamer_factory: Factory) -> StreamerProcess:
    return streamer_factory(*SMALL, env={"IXS_STREAMER_CORS_ORIGINS": json.dumps([PLAYER])})


async def an_offer() -> str:
    """A real recvonly offer from aiortc (it is never connected)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


def preflight(url: str, origin: str, method: str) -> httpx.Response:
    return httpx.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )


def listed(response: httpx.Response, header: str) -> set[str]:
    return {v.strip().lower() for v in response.headers.get(header, "").split(",") if v.strip()}


def test_a_streamer_admits_no_other_origin_unless_told() -> None:
    assert StreamerSettings().cors_origins == []


def test_the_offer_preflight_admits_the_player_and_keeps_accept_post(
    streamer: StreamerProcess,
) -> None:
    response = preflight(streamer.whep_url, PLAYER, "POST")
    assert response.status_code == 204
    assert response.headers["accept-post"] == "application/sdp"  # WHEP §4.1
    assert response.headers["access-control-allow-origin"] == PLAYER
    assert {"post", "options"} <= listed(response, "access-control-allow-methods")
    assert {"authorization", "content-type"} <= listed(response, "access-control-allow-headers")
    assert int(response.headers["access-control-max-age"]) > 0
    assert "origin" in listed(response, "vary")


def test_a_resource_preflight_admits_delete_and_patch(streamer: StreamerProcess) -> None:
    response = preflight(f"{streamer.whep_url}/any-resource", PLAYER, "DELETE")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == PLAYER
    assert {"delete", "patch"} <= listed(response, "access-control-allow-methods")
    assert "if-match" in listed(response, "access-control-allow-headers")


async def test_the_answer_and_its_teardown_are_readable_by_the_player(
    streamer: StreamerProcess,
) -> None:
    auth = {"Authorization": f"Bearer {streamer.token()}", "Origin": PLAYER}
    async with httpx.AsyncClient(timeout=10) as client:
        created = await client.post(
            streamer.whep_url,
            content=await an_offer(),
            headers={**auth, "Content-Type": "application/sdp"},
        )
        assert created.status_code == 201, created.text
        assert created.headers["access-control-allow-origin"] == PLAYER
        assert {"location", "link", "etag"} <= listed(created, "access-control-expose-headers")
        deleted = await client.delete(
            f"{streamer.base_url}{created.headers['location']}", headers=auth
        )
    assert deleted.status_code == 200
    assert deleted.headers["access-control-allow-origin"] == PLAYER


def test_an_error_is_readable_by_the_player_too(streamer: StreamerProcess) -> None:
    response = httpx.post(streamer.whep_url, content="v=0", headers={"Origin": PLAYER}, timeout=10)
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == PLAYER


async def test_a_disallowed_origin_is_answered_as_before_without_cors(
    streamer: StreamerProcess,
) -> None:
    refused = preflight(streamer.whep_url, STRANGER, "POST")
    assert refused.status_code == 204
    assert refused.headers["accept-post"] == "application/sdp"
    assert "access-control-allow-origin" not in refused.headers
    async with httpx.AsyncClient(timeout=10) as client:
        created = await client.post(
            streamer.whep_url,
            content=await an_offer(),
            headers={
                "Authorization": f"Bearer {streamer.token()}",
                "Content-Type": "application/sdp",
                "Origin": STRANGER,
            },
        )
    assert created.status_code == 201
    assert "access-control-allow-origin" not in created.headers
    assert "origin" in listed(created, "vary")


@pytest.mark.parametrize("path", ["/v1/status", "/healthz", "/readyz", "/"])
def test_the_control_api_status_and_probes_carry_no_cors(
    streamer: StreamerProcess, path: str
) -> None:
    response = httpx.get(f"{streamer.base_url}{path}", headers={"Origin": PLAYER}, timeout=10)
    assert not [name for name in response.headers if name.startswith("access-control-")]
    control = preflight(f"{streamer.base_url}/v1/status", PLAYER, "GET")
    assert "access-control-allow-origin" not in control.headers
