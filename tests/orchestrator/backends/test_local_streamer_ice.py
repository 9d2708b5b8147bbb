"""Local streamers get the orchestrator's ICE servers too (both backends share
`IXS_ORCH_ICE__*`): TURN credentials minted for the session they serve, read by a real
streamer that still becomes ready; without configuration, nothing is added."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.backends.base import StreamerProfile
from orchestrator.backends.local import LocalBackendConfig, LocalProcessBackend, streamer_env
from orchestrator.backends.streamer_command import ICE_ENV, KEY_ENV
from orchestrator.clock import SystemClock
from orchestrator.ice.issuer import IceIssuer
from orchestrator.ice.settings import IceSettings
from tests.orchestrator.conftest import START_TIMEOUT_S

pytestmark = pytest.mark.e2e

PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)
TURN = IceSettings.model_validate(
    {
        "turn_uris": ["turn:127.0.0.1:3478?transport=udp"],
        "turn_secret": "Wc5Kr8Xm2Zq7Tn4Lv9Bd1Hf6Ps3Gj0Ya",
        "turn_ttl_s": 900,
    }
)


def environ(pid: int) -> dict[str, str]:
    """A process's environment as the kernel gave it (/proc/PID/environ)."""
    items = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(item.split("=", 1) for item in items if "=" in item)


async def test_a_local_streamer_gets_turn_credentials_for_its_session(tmp_path: Path) -> None:
    ice = IceIssuer(TURN, SystemClock())
    backend = LocalProcessBackend(
        LocalBackendConfig(state_dir=tmp_path / "state", ice_hosts=("127.0.0.1",), ice=ice)
    )
    await backend.open()
    try:
        spawned = await backend.spawn(PROFILE, "s-remote")
        ready = await backend.wait_ready(spawned.id, START_TIMEOUT_S)  # it parsed them
        record = json.loads((tmp_path / "state" / "streamers" / f"{ready.id}.json").read_text())
        (server,) = json.loads(environ(int(record["pid"]))[ICE_ENV])
        assert server["urls"] == TURN.turn_uris
        assert server["username"].endswith(":s-remote")
        assert server["credential"]
    finally:
        await backend.delete(spawned.id)
        await backend.close()


def test_without_ice_configuration_the_environment_is_left_alone() -> None:
    parent = {"PATH": "/bin", ICE_ENV: '[{"urls": ["stun:site"]}]'}
    assert streamer_env(parent, "k")[ICE_ENV] == '[{"urls": ["stun:site"]}]'
    env = streamer_env(parent, "k", ice_servers_json="[]")
    assert (env[ICE_ENV], env[KEY_ENV]) == ("[]", "k")
