"""TURN REST API credentials (coturn's `use-auth-secret`) and the ICE servers a
streamer is given: only what is configured, never a public STUN server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from kubesim import kinds
from orchestrator.backends.kubernetes.settings import IceServerSettings, KubernetesSettings
from orchestrator.backends.kubernetes.turn import ice_servers, ice_servers_env, turn_credential
from tests.kubesim.harness import NAMESPACE, PROFILE, cluster, opened, simulated


def test_the_username_is_expiry_and_subject_and_the_password_its_hmac_sha1() -> None:
    credential = turn_credential("shared-secret", "s-42", now=1_700_000_000.9, ttl_s=600)
    assert credential.username == "1700000600:s-42"
    expected = hmac.new(b"shared-secret", b"1700000600:s-42", hashlib.sha1).digest()
    assert base64.b64decode(credential.credential) == expected


def test_a_subject_with_a_colon_is_refused() -> None:
    with pytest.raises(ValueError, match="':'"):
        turn_credential("secret", "a:b", now=0, ttl_s=60)


def test_streamers_get_only_the_configured_servers_and_none_by_default() -> None:
    assert json.loads(ice_servers_env(ice_servers([], [], None))) == []
    static = [IceServerSettings(urls=["stun:stun.internal:3478"])]
    turn = turn_credential("s", "pod-1", now=0, ttl_s=60)
    servers = ice_servers(static, ["turn:turn.internal:3478?transport=udp"], turn)
    assert servers == [
        {"urls": ["stun:stun.internal:3478"]},
        {
            "urls": ["turn:turn.internal:3478?transport=udp"],
            "username": "60:pod-1",
            "credential": turn.credential,
        },
    ]


def test_turn_uris_without_a_shared_secret_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="turn_secret"):
        KubernetesSettings(turn_uris=["turn:t:3478"])
    assert KubernetesSettings().ice_servers == []


async def test_a_spawned_pod_carries_turn_credentials_and_nothing_else(tmp_path: Path) -> None:
    async with simulated(cluster(nodes=1, gpus=1), tmp_path) as sim:
        async with opened(sim) as plain:
            bare = await plain.spawn(PROFILE, "s-1")
        async with opened(
            sim, turn_uris=["turn:turn.internal:3478"], turn_secret="t" * 32, turn_ttl_s=600
        ) as with_turn:
            relayed = await with_turn.spawn(PROFILE, "s-2")

        def ice(name: str) -> list[dict[str, object]]:
            pod = sim.cluster.store.get(kinds.PODS, NAMESPACE, name)
            env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
            servers: list[dict[str, object]] = json.loads(env["IXS_STREAMER_ICE_SERVERS"]["value"])
            return servers

        assert ice(bare.id) == []
        (server,) = ice(relayed.id)
        assert server["urls"] == ["turn:turn.internal:3478"]
        expiry, subject = str(server["username"]).split(":")
        assert subject == "s-2"
        assert 590 <= int(expiry) - time.time() <= 600
