"""Shared fixtures: real streamer processes on free loopback ports.

Nothing here fakes a streamer: each fixture starts `python -m ixstream stream`
as a subprocess, waits for /readyz, and on teardown stops it with SIGTERM and
checks it exited cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamer.auth import Role, generate_secret, mint_token
from tests.metrics import scrape
from tests.turn import Coturn, running_coturn
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 60.0  # generous: CI machines are shared; tests never time the start-up


@dataclass
class StreamerProcess:
    proc: subprocess.Popen[bytes]
    base_url: str
    secret: str
    session_id: str | None
    log_path: Path
    #: The metrics listener (`--metrics-port`): Prometheus' `/metrics` and nothing else.
    metrics_url: str
    args: list[str] = field(default_factory=list)

    @property
    def whep_url(self) -> str:
        return f"{self.base_url}/whep"

    def token(self, role: Role = "trainee", session_id: str | None = None) -> str:
        return mint_token(self.secret, role, session_id or self.session_id, subject=f"test-{role}")

    def metric(self, name: str, **labels: str) -> float:
        """The sum of one metric's samples matching `labels`, 0.0 when absent."""
        return scrape(self.metrics_url, name, **labels)

    def status(self) -> dict[str, object]:
        """`/v1/status`, as the orchestrator reads it: with its control token."""
        headers = {"Authorization": f"Bearer {self.token('orchestrator')}"}
        response = httpx.get(f"{self.base_url}/v1/status", headers=headers, timeout=5)
        body: dict[str, object] = response.raise_for_status().json()
        return body

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_streamer(
    tmp: Path, *args: str, session_id: str | None = "s-test", env: dict[str, str] | None = None
) -> StreamerProcess:
    secret = generate_secret()
    port_file = tmp / "port"
    metrics_port_file = tmp / "metrics-port"
    log_path = tmp / "streamer.log"
    env = {**os.environ, **(env or {}), "IXS_STREAMER_JWT_SECRET": secret, "IXS_LOG_LEVEL": "info"}
    cmd = [
        sys.executable, "-m", "ixstream", "stream",
        "--port", "0", "--port-file", str(port_file), "--ice-host", "127.0.0.1",
        "--metrics-port", "0", "--metrics-port-file", str(metrics_port_file),
        *(["--session-id", session_id] if session_id else []),
        *args,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    ready_at: list[tuple[str, str]] = []

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(
                f"streamer exited {proc.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        if port_file.exists() and port_file.read_text().strip():
            base = f"http://127.0.0.1:{int(port_file.read_text())}"
            # Written before the main port file: known once that one is.
            metrics = f"http://127.0.0.1:{int(metrics_port_file.read_text())}"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    ready_at.append((base, metrics))
            except httpx.HTTPError:
                pass
        return bool(ready_at)

    try:
        wait_until(ready, STARTUP_TIMEOUT_S, "the streamer ready", interval_s=0.1)
    except AssertionError as never:
        proc.kill()
        raise RuntimeError(f"{never}:\n{log_path.read_text()[-3000:]}") from never
    base, metrics = ready_at[0]
    return StreamerProcess(proc, base, secret, session_id, log_path, metrics, list(args))


def headless_client(whep_url: str, token: str, *args: str) -> dict[str, Any]:
    """`ixstream client … --json` in a process of its own, as a user runs it: its report."""
    done = subprocess.run(
        [sys.executable, "-m", "ixstream", "client", whep_url, "--token", token, "--json", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.fixture
def streamer_factory(tmp_path: Path) -> Iterator[Callable[..., StreamerProcess]]:
    started: list[StreamerProcess] = []

    def make(
        *args: str, session_id: str | None = "s-test", env: dict[str, str] | None = None
    ) -> StreamerProcess:
        tmp = tmp_path / f"streamer{len(started)}"
        tmp.mkdir()
        process = start_streamer(tmp, *args, session_id=session_id, env=env)
        started.append(process)
        return process

    yield make
    for process in started:
        code = process.stop()
        assert code == 0, f"streamer exited {code}:\n{process.log_path.read_text()[-3000:]}"


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    """A real coturn on loopback (tests/turn.py), stopped after the test."""
    with running_coturn(tmp_path) as server:
        yield server
