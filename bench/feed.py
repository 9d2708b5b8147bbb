"""Live feed benchmark (issue 11): how fast a change reaches open pages, and what 50
open pages cost the orchestrator with the feed against polling, in the same run.

Everything is real: `ixstream up` in a subprocess (local backend), 50 clients over
loopback HTTP in this process. One session holds the only slot, so the changes made
(a trainee's session queued, then ended) start no streamer and the figures are the
control plane's own.

- latency: request sent → the `session` event read by each of 50 open streams, p50/p95
  over every (change, client) pair, and over the slowest client of each change;
- CPU: the orchestrator process's CPU seconds (utime + stime, /proc) over the same
  window and the same changes (one a second), three ways: no clients (the baseline),
  50 clients polling at the operations console's old interval (`GET /v1/pool` and `GET
  /v1/sessions` every 2 s), and 50 open feed streams.

Run: `python -m bench feed` (prints JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bench.orchestrator import Orchestrator, _tmpdir, summary
from orchestrator.auth import mint_api_token
from orchestrator.identity import Role

CLIENTS = 50
#: What the operations console polled at before the feed (clients/web/js/operator.js).
OLD_POLL_INTERVAL_S = 2.0
WINDOW_S = 12.0
CHANGE_EVERY_S = 1.0
LATENCY_CHANGES = 20
#: The issue's bound for a change to reach an open page.
TARGET_P95_MS = 500
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (proc(5): fields 14 and 15 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def token(up: Orchestrator, subject: str, role: Role) -> str:
    return mint_api_token(
        up.secret, subject=subject, role=role, audience="ixstream-orchestrator",
        now=time.time(), ttl_s=3600,
    )  # fmt: skip


class FeedClient:
    """One open `GET /v1/events` stream; notes when each session's event arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[tuple[str, str], float] = {}
        self.ready = asyncio.Event()

    async def run(self, http: httpx.AsyncClient, bearer: str) -> None:
        headers = {"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"}
        async with http.stream("GET", "/v1/events", headers=headers) as response:
            response.raise_for_status()
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "ready":
                    self.ready.set()
                elif line.startswith("data: ") and kind == "session":
                    data = json.loads(line[6:])
                    self.arrivals.setdefault((data["id"], data["state"]), time.monotonic())


@contextlib.asynccontextmanager
async def feed_clients(up: Orchestrator) -> AsyncIterator[list[FeedClient]]:
    """50 open streams, each with a snapshot fetched as a page does on connecting."""
    limits = httpx.Limits(max_connections=CLIENTS * 2)
    async with httpx.AsyncClient(
        base_url=up.base_url, timeout=httpx.Timeout(30, read=None), limits=limits
    ) as http:
        clients = [FeedClient() for _ in range(CLIENTS)]
        tokens = [token(up, f"operator-{n}", Role.OPERATOR) for n in range(CLIENTS)]
        tasks = [asyncio.create_task(c.run(http, t)) for c, t in zip(clients, tokens, strict=True)]
        try:
            await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 60)
            for bearer in tokens:
                await snapshot(http, bearer)
            yield clients
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def snapshot(http: httpx.AsyncClient, bearer: str) -> None:
    headers = {"Authorization": f"Bearer {bearer}"}
    for path in ("/v1/pool", "/v1/sessions"):
        (await http.get(path, headers=headers)).raise_for_status()


@contextlib.asynccontextmanager
async def polling_clients(up: Orchestrator) -> AsyncIterator[None]:
    """50 pages polling as the operations console did, spread over the interval."""
    async with httpx.AsyncClient(base_url=up.base_url, timeout=30) as http:

        async def poll(bearer: str) -> None:
            await asyncio.sleep(random.uniform(0, OLD_POLL_INTERVAL_S))
            while True:
                started = time.monotonic()
                await snapshot(http, bearer)
                await asyncio.sleep(max(0.0, OLD_POLL_INTERVAL_S - (time.monotonic() - started)))

        tasks = [
            asyncio.create_task(poll(token(up, f"operator-{n}", Role.OPERATOR)))
            for n in range(CLIENTS)
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def change(up: Orchestrator, trainee: dict[str, str]) -> tuple[str, float]:
    """Queue a trainee's session and end it: a `pending` then an `ended` event."""
    asked = time.monotonic()
    created = await up.http.post("/v1/sessions?wait=true", json={}, headers=trainee)
    created.raise_for_status()
    session_id: str = created.json()["id"]
    await up.http.delete(f"/v1/sessions/{session_id}", headers=trainee)
    return session_id, asked


async def cpu_over_window(up: Orchestrator, trainee: dict[str, str]) -> float:
    """Orchestrator CPU seconds over `WINDOW_S` with a change every `CHANGE_EVERY_S`."""
    await asyncio.sleep(1.0)  # let connecting settle
    before = cpu_seconds(up.proc.pid)
    deadline = time.monotonic() + WINDOW_S
    while time.monotonic() < deadline:
        await change(up, trainee)
        await asyncio.sleep(CHANGE_EVERY_S)
    return round(cpu_seconds(up.proc.pid) - before, 3)


async def latencies(
    up: Orchestrator, clients: list[FeedClient], trainee: dict[str, str]
) -> dict[str, Any]:
    every: list[float] = []
    slowest: list[float] = []
    for _ in range(LATENCY_CHANGES):
        session_id, asked = await change(up, trainee)
        key = (session_id, "pending")
        await all_saw(clients, key)
        got = [(c.arrivals[key] - asked) * 1000 for c in clients]
        every += got
        slowest.append(max(got))
        await asyncio.sleep(0.2)
    return {"every_client_ms": summary(every), "slowest_client_ms": summary(slowest)}


async def all_saw(clients: list[FeedClient], key: tuple[str, str], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(key in c.arrivals for c in clients):
        if time.monotonic() > deadline:
            raise TimeoutError("the feed's clients never all saw the change")
        await asyncio.sleep(0.005)


async def run_async(tmp: Path) -> dict[str, Any]:
    async with _orchestrator(tmp) as up:
        holder = {"Authorization": f"Bearer {token(up, 'holder', Role.TRAINEE)}"}
        (await up.http.post("/v1/sessions", json={}, headers=holder)).raise_for_status()
        trainee = {"Authorization": f"Bearer {token(up, 'kim', Role.TRAINEE)}"}

        idle = await cpu_over_window(up, trainee)
        async with polling_clients(up):
            polling = await cpu_over_window(up, trainee)
        async with feed_clients(up) as clients:
            feed = await cpu_over_window(up, trainee)
            latency = await latencies(up, clients, trainee)
    return {
        "clients": CLIENTS,
        "window_s": WINDOW_S,
        "changes_per_s": 1 / CHANGE_EVERY_S,
        "latency_request_to_event": latency,
        "orchestrator_cpu_s": {
            "no_clients_baseline": idle,
            f"polling_every_{OLD_POLL_INTERVAL_S:g}s": polling,
            "feed": feed,
        },
        "feed_cpu_over_polling": round(feed / polling, 3) if polling else None,
        "clients_cost_feed_over_polling": (
            round((feed - idle) / (polling - idle), 3) if polling > idle else None
        ),
        "meets_targets": {
            "latency_p95_under_500_ms": (latency["every_client_ms"]["p95"] or 1e9) < TARGET_P95_MS,
            "feed_cheaper_than_polling": feed < polling,
        },
    }


@contextlib.asynccontextmanager
async def _orchestrator(tmp: Path) -> AsyncIterator[Orchestrator]:
    up = Orchestrator(
        tmp / f"state-{secrets.token_hex(3)}",
        pool=0,
        max_sessions=1,
        default_scenario="test-pattern",
        default_width="320",
        default_height="240",
        default_fps="15",
        reconcile_interval_s="1.0",
    )
    try:
        await up.wait()
        yield up
    finally:
        await up.close()


def run() -> dict[str, Any]:
    with _tmpdir() as tmp:
        return asyncio.run(run_async(tmp))


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
    sys.exit(0)
