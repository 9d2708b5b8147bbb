"""Orchestrator benchmark: session start (warm and cold), claim rate, and density.

Everything is real: `ixstream up` runs as a subprocess with the local backend, and the
headless client (`ixclient.ViewerClient`, imported before any clock starts) receives
frames through the orchestrator's WHEP proxy. Figures (DESIGN.md §5 targets):

- session start, request → first decoded frame: warm pool (target p50 ≤ 250 ms) and
  cold, pool 0 (target p50 ≤ 2 s);
- baselines measured in the same run: the client connecting straight to an already
  running streamer (what no orchestrator could beat), and a bare streamer process's
  start → ready time (the floor under a cold start);
- claims: a burst of concurrent creates against a full warm pool, claims per second
  and latency p50/p99;
- density: how many concurrent 720p30 sessions each hold ≥ 29 fps (target ≥ 4),
  adding one session at a time, clients included on the same machine; with the sample
  scene, and again with the test pattern (no 3D render) to separate render cost from
  everything else.

Run: `python -m bench.orchestrator` (prints JSON), or `make bench`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

from ixclient.stats import summary as stats_summary
from ixclient.viewer import ViewerClient
from orchestrator.auth import mint_api_token
from orchestrator.identity import Role

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"warm_start_p50_ms": 250, "cold_start_p50_ms": 2000, "density_720p30": 4}
FPS_FLOOR = 29.0


def summary(values: list[float]) -> dict[str, Any]:
    return stats_summary(values, (50, 95, 99))


class Orchestrator:
    """`ixstream up` in a subprocess, and an HTTP client for its API."""

    def __init__(self, state_dir: Path, *, pool: int, max_sessions: int, **env: str) -> None:
        self.secret = secrets.token_urlsafe(32)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = state_dir.parent / f"up-{self.port}.log"
        environment = {**os.environ, "IXS_ORCH_JWT_SECRET": self.secret,
                       "IXS_ORCH_RECONCILE_INTERVAL_S": "0.25", "IXS_ORCH_LOG_JSON": "true",
                       **{f"IXS_ORCH_{k.upper()}": v for k, v in env.items()}}  # fmt: skip
        cmd = [
            sys.executable,
            "-m",
            "ixstream",
            "up",
            "--port",
            str(self.port),
            "--pool",
            str(pool),
            "--max-sessions",
            str(max_sessions),
            "--state-dir",
            str(state_dir),
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=environment, stdout=log, stderr=log)
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=60, trust_env=False)
        self.headers = {"Authorization": "Bearer " + mint_api_token(
            self.secret, subject="bench", role=Role.OPERATOR, audience="ixstream-orchestrator",
            now=time.time(), ttl_s=3600)}  # fmt: skip

    async def wait(self, warm: int | None = None, timeout_s: float = 90) -> None:
        """Until it is ready (and, with `warm`, holds that many warm streamers)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ixstream up exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                ready = await self.http.get("/readyz")
                if ready.status_code == 200 and (
                    warm is None or ready.json()["warm_streamers"] >= warm
                ):
                    return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"orchestrator not ready: {self.log.read_text()[-2000:]}")

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post("/v1/sessions", json=body, headers=self.headers)
        response.raise_for_status()
        session: dict[str, Any] = response.json()
        return session

    async def session(self, session_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/sessions/{session_id}", headers=self.headers)
        body: dict[str, Any] = response.json()
        return body

    async def end(self, session_id: str, wait: bool = True) -> None:
        await self.http.delete(f"/v1/sessions/{session_id}", headers=self.headers)
        deadline = time.monotonic() + 30
        while wait and time.monotonic() < deadline:
            if (await self.session(session_id))["state"] in ("ended", "failed"):
                return
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.http.aclose()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.asynccontextmanager
async def orchestrator(tmp: Path, **kwargs: Any) -> AsyncIterator[Orchestrator]:
    state_dir = tmp / f"state-{secrets.token_hex(3)}"
    up = Orchestrator(state_dir, **kwargs)
    try:
        await up.wait()
        yield up
    finally:
        await up.close()


async def first_frame_ms(whep_url: str, token: str, started_ms: float) -> float:
    """Connect a viewer; ms from `started_ms` (monotonic) to its first decoded frame."""
    async with ViewerClient(whep_url, token=token) as viewer:
        frame = await viewer.wait_for_frame(timeout_s=60)
        return frame.decoded_at_ms - started_ms


def now_ms() -> float:
    return time.monotonic() * 1000.0


async def session_starts(up: Orchestrator, samples: int, *, warm: bool) -> list[float]:
    """Request → first decoded frame, `samples` times, one session at a time."""
    times = []
    for _ in range(samples):
        await up.wait(warm=1 if warm else None)
        await asyncio.sleep(0.5 if warm else 0.0)  # let the refill settle off the CPU
        started = now_ms()
        session = await up.create()
        assert session["start"] in (("warm",) if warm else ("cold", None)), session
        times.append(await first_frame_ms(session["whep_url"], session["token"], started))
        await up.end(session["id"])
    return times


async def claim_burst(up: Orchestrator, count: int) -> dict[str, Any]:
    """`count` concurrent creates against `count` warm streamers."""
    await up.wait(warm=count, timeout_s=120)
    await asyncio.sleep(1.0)

    async def one() -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        session = await up.create()
        return (time.perf_counter() - started) * 1000.0, session

    started = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(count)))
    elapsed = time.perf_counter() - started
    kinds = [s["start"] for _, s in results]
    await asyncio.gather(*(up.end(s["id"]) for _, s in results))
    return {
        "concurrent": count,
        "warm_claims": kinds.count("warm"),
        "claims_per_second": round(count / elapsed, 1),
        "latency_ms": summary([ms for ms, _ in results]),
    }


async def density(up: Orchestrator, max_sessions: int, window_s: float) -> dict[str, Any]:
    """Add 720p30 sessions one by one while every one keeps its frame rate.

    Reports two counts: sessions that each hold ≥ 29 fps (the DESIGN.md §5 target), and
    sessions that each hold ≥ 95 % of what one session alone gets in this same run (the
    baseline: how much the machine, not the pacing, limits density). Stepping stops when
    the second count stops growing.
    """
    steps: list[dict[str, Any]] = []
    viewers: list[ViewerClient] = []
    sessions: list[str] = []
    at_floor = at_baseline = 0
    alone: float | None = None
    try:
        for n in range(1, max_sessions + 1):
            session = await up.create(width=1280, height=720, fps=30)
            sessions.append(session["id"])
            viewer = ViewerClient(session["whep_url"], token=session["token"])
            await viewer.connect()
            viewers.append(viewer)
            await viewer.wait_for_frame(timeout_s=60)
            await asyncio.sleep(1.5)  # settle
            for v in viewers:
                v.measure = type(v.measure)()
            await asyncio.sleep(window_s)
            fps = [(await v.report())["fps"] for v in viewers]
            steps.append({"sessions": n, "fps": fps})
            alone = alone if alone is not None else fps[0]
            if min(fps) >= FPS_FLOOR:
                at_floor = n
            if min(fps) < 0.95 * alone:
                break
            at_baseline = n
    finally:
        for v in viewers:
            with contextlib.suppress(Exception):
                await v.close()
        await asyncio.gather(*(up.end(s, wait=False) for s in sessions))
    return {
        "sessions_holding_29fps": at_floor,
        "single_session_fps": alone,
        "sessions_within_5pct_of_single": at_baseline,
        "steps": steps,
    }


async def streamer_ready_baseline(tmp: Path, samples: int) -> tuple[list[float], list[float]]:
    """A bare `ixstream stream`: start → ready, and a direct client's first frame."""
    from tests.conftest import start_streamer

    ready, direct = [], []
    for i in range(samples):
        started = now_ms()
        streamer = await asyncio.to_thread(start_streamer, _fresh(tmp, f"bare{i}"))
        ready.append(now_ms() - started)
        try:
            connect = now_ms()
            direct.append(await first_frame_ms(streamer.whep_url, streamer.token(), connect))
        finally:
            await asyncio.to_thread(streamer.stop)
    return ready, direct


def _fresh(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir()
    return path


async def run_async(tmp: Path, quick: bool) -> dict[str, Any]:
    samples = 3 if quick else 7
    bare_ready, direct = await streamer_ready_baseline(tmp, 2 if quick else 3)
    async with orchestrator(tmp, pool=1, max_sessions=4) as up:
        warm = await session_starts(up, samples, warm=True)
    # A library scenario: the claim also loads the document onto the streamer, which
    # rebuilds its renderer with the scenario's dynamic nodes (PUT /v1/scenario).
    async with orchestrator(
        tmp, pool=1, max_sessions=4, default_scenario="gas-leak-warehouse"
    ) as up:
        warm_scenario = await session_starts(up, samples, warm=True)
    async with orchestrator(tmp, pool=0, max_sessions=4) as up:
        cold = await session_starts(up, samples, warm=False)
    burst = 3
    async with orchestrator(tmp, pool=burst, max_sessions=burst, default_scenario="test-pattern",
                            default_width="320", default_height="240") as up:  # fmt: skip
        claims = await claim_burst(up, burst)
    window = 3.0 if quick else 5.0
    async with orchestrator(tmp, pool=0, max_sessions=6) as up:
        packed = await density(up, 6, window_s=window)
    # The same with the test pattern: transport and encode only, no 3D render.
    async with orchestrator(tmp, pool=0, max_sessions=6, default_scenario="test-pattern") as up:
        packed_pattern = await density(up, 6, window_s=window)
    warm_s, cold_s = summary(warm), summary(cold)
    direct_s, scenario_s = summary(direct), summary(warm_scenario)
    return {
        "warm_start_ms": warm_s,
        "warm_start_scenario_document_ms": scenario_s,
        "scenario_setup_overhead_p50_ms": (
            round(scenario_s["p50"] - warm_s["p50"], 1)
            if scenario_s["p50"] is not None and warm_s["p50"] is not None
            else None
        ),
        "cold_start_ms": cold_s,
        "baseline": {
            "direct_connect_first_frame_ms": direct_s,
            "bare_streamer_start_to_ready_ms": summary(bare_ready),
        },
        "warm_overhead_over_direct_p50_ms": (
            round(warm_s["p50"] - direct_s["p50"], 1)
            if warm_s["p50"] is not None and direct_s["p50"] is not None
            else None
        ),
        "claims": claims,
        "density_720p30": packed,
        "density_720p30_test_pattern": packed_pattern,
        "targets": TARGETS,
        "meets_targets": {
            "warm_start_p50": _le(warm_s["p50"], TARGETS["warm_start_p50_ms"]),
            "cold_start_p50": _le(cold_s["p50"], TARGETS["cold_start_p50_ms"]),
            "density_720p30": packed["sessions_holding_29fps"] >= TARGETS["density_720p30"],
        },
    }


def _le(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


@contextlib.contextmanager
def _tmpdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ixs-bench-orch-") as tmp:
        yield Path(tmp)


def run(quick: bool = False) -> dict[str, Any]:
    with _tmpdir() as tmp:
        return asyncio.run(run_async(tmp, quick))


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
