"""Fixtures for the orchestrator's tests.

Apps are built with the real LocalProcessBackend: where a test needs a streamer it is
a real `python -m ixstream stream` process (test-pattern source, small frames, to
spare the CI machine's two cores), never a stand-in. `running_processes` lets tests
assert that nothing outlived them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orchestrator.app import create_app
from orchestrator.auth import mint_api_token
from orchestrator.backends import procfs
from orchestrator.clock import Clock
from orchestrator.identity import Role
from orchestrator.sessions.service import SessionService
from orchestrator.settings import OrchestratorSettings
from tests.waiting import eventually as eventually  # re-exported: the tests wait with it
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
API_SECRET = "orchestrator-tests-Vq8dLx2RmT7zKp4NwY9cHs3F"
AUDIENCE = "ixstream-orchestrator"
#: Streamers cost CPU; tests use the cheapest profile the streamer accepts.
CHEAP_STREAMERS: dict[str, Any] = {
    "default_scenario": "test-pattern",
    "default_width": 320,
    "default_height": 240,
    "default_fps": 15,
    "bitrate_kbps": 500,
}
#: Generous: CI machines are shared. Tests check outcomes, not start-up speed.
START_TIMEOUT_S = 60.0


def api_token(subject: str = "alice", role: Role = Role.TRAINEE, ttl_s: float = 600) -> str:
    return mint_api_token(
        API_SECRET, subject=subject, role=role, audience=AUDIENCE, now=time.time(), ttl_s=ttl_s
    )


def auth(subject: str = "alice", role: Role = Role.TRAINEE) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(subject, role)}"}


def settings_for(state_dir: Path, **overrides: Any) -> OrchestratorSettings:
    values: dict[str, Any] = {
        "mode": "dev",
        "jwt_secret": API_SECRET,
        "state_dir": state_dir,
        "pool_size": 0,
        "max_sessions": 2,
        "reconcile_interval_s": 0.2,
        "start_timeout_s": START_TIMEOUT_S,
        "log_json": False,
        **CHEAP_STREAMERS,
        **overrides,
    }
    return OrchestratorSettings(**values)


@dataclass
class Harness:
    """An app running its lifespan, and an HTTP client talking to it in-process."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: OrchestratorSettings

    @property
    def service(self) -> SessionService:
        service: SessionService = self.app.state.ctx.service
        return service


@asynccontextmanager
async def running_app(
    settings: OrchestratorSettings, clock: Clock | None = None
) -> AsyncIterator[Harness]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orch.test") as client:
            yield Harness(app, client, settings)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[Harness]]:
    """`async with make_app(max_sessions=1) as h:` — a running app on a fresh state dir."""

    def make(**overrides: Any) -> AbstractAsyncContextManager[Harness]:
        return running_app(settings_for(tmp_path / "state", **overrides))

    return make


def streamer_pids(state_dir: Path) -> list[int]:
    """PIDs of live streamer processes started for `state_dir` (found by their
    `--port-file` argument, which lives under it): what must be empty after a test."""
    marker = str(state_dir.resolve()).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(marker) for a in args) and b"stream" in args:
            pid = int(entry.name)
            if procfs.is_running(pid, None):
                found.append(pid)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class UpProcess:
    """`ixstream up` running in a subprocess."""

    proc: subprocess.Popen[bytes]
    base_url: str
    state_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_up(
    state_dir: Path, log_path: Path, *, pool: int, max_sessions: int, env: dict[str, str] | None
) -> UpProcess:
    port = free_port()
    environment = {
        **os.environ,
        "IXS_ORCH_JWT_SECRET": API_SECRET,
        "IXS_ORCH_RECONCILE_INTERVAL_S": "0.2",
        "IXS_ORCH_START_TIMEOUT_S": str(START_TIMEOUT_S),
        **{f"IXS_ORCH_{k.upper()}": str(v) for k, v in CHEAP_STREAMERS.items()},
        **(env or {}),
    }
    cmd = [
        sys.executable, "-m", "ixstream", "up", "--port", str(port),
        "--pool", str(pool), "--max-sessions", str(max_sessions), "--state-dir", str(state_dir),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environment, stdout=log, stderr=log)
    up = UpProcess(proc, f"http://127.0.0.1:{port}", state_dir, log_path)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"ixstream up exited {proc.returncode}:\n{up.log()}")
        try:
            return httpx.get(f"{up.base_url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 60, "ixstream up ready", interval_s=0.1)
    except AssertionError as never:
        up.stop(signal.SIGKILL)
        raise RuntimeError(f"{never}:\n{up.log()}") from never
    return up


@pytest.fixture
def orchestrator_up(tmp_path: Path) -> Iterator[Callable[..., UpProcess]]:
    """Start `ixstream up` subprocesses; on teardown stop them and check that no
    streamer process they started survives."""
    started: list[UpProcess] = []

    def make(pool: int = 1, max_sessions: int = 2, env: dict[str, str] | None = None) -> UpProcess:
        up = start_up(
            tmp_path / "state", tmp_path / "up.log", pool=pool, max_sessions=max_sessions, env=env
        )
        started.append(up)
        return up

    yield make
    for up in started:
        up.stop()
    if started:
        state_dir = started[0].state_dir
        leftovers = streamer_pids(state_dir)
        for pid in leftovers:
            os.killpg(pid, signal.SIGKILL)
        assert not leftovers, f"streamers outlived the orchestrator: {leftovers}"
