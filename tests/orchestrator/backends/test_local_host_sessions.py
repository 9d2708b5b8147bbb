"""A local orchestrator runs up to `max_sessions` streamers on one host's cores, and
tells each so (`--host-sessions`): a real streamer started by the backend the settings
build carries the number on its command line and still becomes ready. Each encoder then
starts its share of threads (tests/streamer/encode/test_threads.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from orchestrator.backends.base import StreamerProfile
from orchestrator.backends.factory import create_backend
from orchestrator.clock import SystemClock
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.settings import OrchestratorSettings
from tests.orchestrator.conftest import START_TIMEOUT_S

pytestmark = pytest.mark.e2e

PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")


async def test_each_local_streamer_is_told_how_many_share_its_host(tmp_path: Path) -> None:
    settings = OrchestratorSettings(
        mode="dev", state_dir=tmp_path / "state", max_sessions=3, pool_size=0
    )
    built = create_backend(
        settings, SystemClock(), OrchestratorMetrics(CollectorRegistry()), PROFILE
    )
    backend = built.backend
    await backend.open()
    try:
        spawned = await backend.spawn(PROFILE, "s-shared")
        ready = await backend.wait_ready(spawned.id, START_TIMEOUT_S)
        record = json.loads((tmp_path / "state" / "streamers" / f"{ready.id}.json").read_text())
        argv = cmdline(int(record["pid"]))
        assert argv[argv.index("--host-sessions") + 1] == "3"
    finally:
        await backend.delete(spawned.id)
        await backend.close()
