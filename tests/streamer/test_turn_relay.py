"""Media through a real TURN server: coturn on loopback with short-lived TURN REST
credentials (the orchestrator's own minting), the streamer given the server through
its settings, and a viewer restricted to relay candidates, so every frame it decodes
crossed coturn. Also: expired credentials get no allocation and no video."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ixclient.viewer import ViewerClient
from orchestrator.ice.turn import turn_credential
from streamer.auth import generate_secret
from tests.conftest import StreamerProcess
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


@dataclass(frozen=True)
class IceServer:
    urls: list[str]
    username: str
    credential: str


@dataclass
class Coturn:
    port: int
    secret: str
    log: Path

    def server(self, subject: str, ttl_s: int = 600) -> IceServer:
        cred = turn_credential(self.secret, subject, now=time.time(), ttl_s=ttl_s)
        return IceServer(
            [f"turn:127.0.0.1:{self.port}?transport=udp"], cred.username, cred.credential
        )

    def allocations(self) -> int:
        return self.log.read_text(errors="replace").count("ALLOCATE processed, success")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    if not Path(TURNSERVER).exists():
        raise RuntimeError("turnserver is missing: `make test` installs Debian's coturn")
    port, secret, log = free_udp_port(), generate_secret(), tmp_path / "coturn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                TURNSERVER, "-n", "--no-cli", "--no-tls", "--no-dtls", "--simple-log",
                "--log-file=stdout", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                f"--listening-port={port}", "--min-port=49160", "--max-port=49200",
                "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=ixstream.test",
                "--fingerprint", "--allow-loopback-peers",  # FIELD-NOTES trap 14
                "--no-multicast-peers", "--verbose",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def listening() -> bool:
        assert proc.poll() is None, f"coturn exited:\n{log.read_text()[-2000:]}"
        return "listener opened on" in log.read_text(errors="replace")

    wait_until(
        listening, 20, lambda: f"coturn listening:\n{log.read_text()[-2000:]}", interval_s=0.1
    )
    yield Coturn(port, secret, log)
    proc.terminate()
    proc.wait(timeout=10)


def streamer_env(server: IceServer) -> dict[str, str]:
    return {"IXS_STREAMER_ICE_SERVERS": json.dumps([server.__dict__])}


async def test_video_flows_through_coturn_with_short_lived_credentials(
    streamer_factory: Callable[..., StreamerProcess], coturn: Coturn
) -> None:
    small = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30")
    streamer = streamer_factory(*small, env=streamer_env(coturn.server("pod-1")))
    viewer = ViewerClient(
        streamer.whep_url,
        token=streamer.token(),
        ice_servers=[coturn.server("session-1")],
        relay_only=True,
    )
    async with viewer:
        await viewer.wait_for_frame(timeout_s=30)
        report = await viewer.run(2.0)
        offered = viewer.offered_candidate_types()
    assert offered, "the viewer offered no candidates"
    assert set(offered) == {"relay"}  # so every decoded frame crossed coturn
    assert report["frames"] > 30
    assert coturn.allocations() >= 1  # the relay-only viewer's allocation, at least


async def test_expired_turn_credentials_get_no_relay(
    streamer_factory: Callable[..., StreamerProcess], coturn: Coturn
) -> None:
    small = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30")
    streamer = streamer_factory(*small)
    viewer = ViewerClient(
        streamer.whep_url,
        token=streamer.token(),
        ice_servers=[coturn.server("session-2", ttl_s=-60)],
        relay_only=True,
    )
    async with viewer:
        with pytest.raises(TimeoutError):
            await viewer.wait_for_frame(timeout_s=6)
    assert coturn.allocations() == 0
