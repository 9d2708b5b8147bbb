"""CORS on the orchestrator's WHEP proxy, and the allowed origins it passes on.

Allowed origins default to the orchestrator's own (`public_url`'s) and, in dev mode,
any; `IXS_ORCH_CORS_ORIGINS` replaces them. The proxy's WHEP paths answer preflights
(with `Accept-Post`, WHEP §4.1) and every answer, errors included, with CORS headers
for an allowed origin; a disallowed one is answered as before without them; no other
path of the API carries CORS headers, and no security header blocks a cross-origin
read of the WHEP endpoints. Both backends hand the same origins to their streamers, so
a direct WHEP URL admits the same players as the proxied one. A browser playing
through the proxy from another origin is `tests/web/test_foreign_whep_client.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import kubernetes_validate
import pytest
from pydantic import SecretStr, ValidationError

from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.backends.local import streamer_env
from orchestrator.backends.streamer_command import CORS_ENV
from orchestrator.settings import OrchestratorSettings
from tests.kubesim.harness import PROFILE
from tests.orchestrator.conftest import Harness

PLAYER = "http://player.test:8081"
STRANGER = "http://stranger.test"
STRONG = "Jx4vQp9LmZ2sTn7RcW1yHb6KdF8gAe3Uo5iMtVwXqYs"
WHEP = "/v1/sessions/s-nobody/whep"
MakeApp = Callable[..., AbstractAsyncContextManager[Harness]]


def production(public_url: str | None = None) -> OrchestratorSettings:
    return OrchestratorSettings(
        mode="production", jwt_secret=SecretStr(STRONG), public_url=public_url
    )


def test_dev_mode_admits_any_origin_and_production_only_its_own() -> None:
    assert OrchestratorSettings(mode="dev").allowed_origins == ["*"]
    assert production().allowed_origins == []
    own = production(public_url="https://IX.example/base/").allowed_origins
    assert own == ["https://ix.example"]


def test_configured_origins_replace_the_defaults_and_must_be_origins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IXS_ORCH_CORS_ORIGINS", json.dumps([PLAYER]))
    assert OrchestratorSettings(mode="dev").allowed_origins == [PLAYER]
    with pytest.raises(ValidationError, match="not an origin"):
        OrchestratorSettings(mode="dev", cors_origins=["https://ix.example/app"])


def test_a_local_streamer_is_told_the_allowed_origins() -> None:
    env = streamer_env({"PATH": "/bin"}, "key", [PLAYER])
    assert json.loads(env[CORS_ENV]) == [PLAYER]


def test_a_streamer_pod_is_told_the_allowed_origins_and_stays_valid() -> None:
    pod = m.streamer_pod(
        KubernetesSettings(), PROFILE, "s-1", name="p", ice_servers_json="[]", cors_origins=[PLAYER]
    )
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert json.loads(env[CORS_ENV]) == [PLAYER]
    kubernetes_validate.validate(pod, "1.33.0", strict=True)


def preflight(origin: str, method: str) -> dict[str, str]:
    """The headers Chromium sends on the preflight of a WHEP request."""
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


async def test_the_proxy_answers_preflights_for_an_allowed_origin(make_app: MakeApp) -> None:
    async with make_app(cors_origins=[PLAYER]) as h:
        offer = await h.client.options(WHEP, headers=preflight(PLAYER, "POST"))
        resource = await h.client.options(f"{WHEP}/r1", headers=preflight(PLAYER, "PATCH"))
    assert offer.status_code == 204
    assert offer.headers["accept-post"] == "application/sdp"
    for response in (offer, resource):
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == PLAYER
        assert "PATCH" in response.headers["access-control-allow-methods"]
        assert "Authorization" in response.headers["access-control-allow-headers"]
        assert "Location" in response.headers["access-control-expose-headers"]
        # Nothing the security headers add may stop a cross-origin read (Fetch §3.7 CORP).
        assert "cross-origin-resource-policy" not in response.headers
        assert "cross-origin-embedder-policy" not in response.headers


async def test_a_proxy_error_is_readable_by_the_player(make_app: MakeApp) -> None:
    async with make_app(cors_origins=[PLAYER]) as h:
        response = await h.client.post(
            WHEP,
            content="v=0\r\n",
            headers={"Origin": PLAYER, "Content-Type": "application/sdp"},
        )
    assert response.status_code >= 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["access-control-allow-origin"] == PLAYER


async def test_a_disallowed_origin_and_the_rest_of_the_api_get_no_cors(
    make_app: MakeApp,
) -> None:
    async with make_app(cors_origins=[PLAYER]) as h:
        refused = await h.client.options(WHEP, headers=preflight(STRANGER, "POST"))
        api = await h.client.get("/v1/sessions", headers={"Origin": PLAYER})
        api_preflight = await h.client.options("/v1/sessions", headers=preflight(PLAYER, "POST"))
        probe = await h.client.get("/healthz", headers={"Origin": PLAYER})
    assert refused.status_code == 204
    assert "access-control-allow-origin" not in refused.headers
    assert "Origin" in refused.headers["vary"]
    for response in (api, api_preflight, probe):
        assert not [n for n in response.headers if n.startswith("access-control-")], response
    assert api_preflight.status_code == 405


async def test_dev_mode_admits_a_player_from_any_origin(make_app: MakeApp) -> None:
    async with make_app() as h:
        response = await h.client.options(WHEP, headers=preflight(STRANGER, "POST"))
    assert response.headers["access-control-allow-origin"] == STRANGER
