"""A real TURN server for tests: Debian's coturn on loopback, authenticating with the
TURN REST API shared secret (`use-auth-secret`) exactly as the chart's coturn does.

Shared by the Python viewer's relay test (tests/streamer) and the browser's
(tests/web). `--allow-loopback-peers` is required on a loopback-only host (FIELD-NOTES
trap 14), else coturn answers "403 Forbidden IP" and no media flows.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestrator.ice.turn import turn_credential
from streamer.auth import generate_secret
from tests.waiting import wait_until

TURNSERVER = Path("/usr/bin/turnserver")
#: coturn's log line for each relay allocation it granted.
ALLOCATED = "ALLOCATE processed, success"


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

    @property
    def uri(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def server(self, subject: str, ttl_s: int = 600) -> IceServer:
        """An ICE server entry with credentials minted as the orchestrator mints them."""
        cred = turn_credential(self.secret, subject, now=time.time(), ttl_s=ttl_s)
        return IceServer([self.uri], cred.username, cred.credential)

    def allocations(self) -> int:
        return self.log.read_text(errors="replace").count(ALLOCATED)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_coturn(folder: Path) -> Iterator[Coturn]:
    """coturn on a free loopback port with a fresh shared secret; stopped on exit."""
    if not TURNSERVER.exists():
        raise RuntimeError(f"{TURNSERVER} is missing: `make test` installs Debian's coturn")
    port, secret, log = free_udp_port(), generate_secret(), folder / "coturn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(TURNSERVER), "-n", "--no-cli", "--no-tls", "--no-dtls", "--simple-log",
                "--log-file=stdout", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                f"--listening-port={port}", "--min-port=49160", "--max-port=49200",
                "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=ixstream.test",
                "--fingerprint", "--allow-loopback-peers",  # FIELD-NOTES trap 14
                "--no-multicast-peers", "--verbose",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:

        def listening() -> bool:
            assert proc.poll() is None, f"coturn exited:\n{log.read_text()[-2000:]}"
            return "listener opened on" in log.read_text(errors="replace")

        wait_until(
            listening, 20, lambda: f"coturn listening:\n{log.read_text()[-2000:]}", interval_s=0.1
        )
        yield Coturn(port, secret, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
