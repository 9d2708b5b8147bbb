"""End to end: `ixstream up` in a subprocess, a session created over HTTP, the headless
client (`ixstream client`) receiving frames through the orchestrator's WHEP proxy — as
the trainee and as a spectator at once — and the streamer process gone within 5 s of
the DELETE. While the clients watch, the session reports the frame rate its streamer
really sends, and after it the frames sent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from orchestrator.backends import procfs
from tests.conftest import headless_client
from tests.orchestrator.conftest import START_TIMEOUT_S, UpProcess, auth
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
WATCH_S = 3.0


def watch(whep_url: str, token: str) -> dict[str, Any]:
    return headless_client(whep_url, token, "--seconds", str(WATCH_S))


def test_a_client_watches_a_session_through_the_proxy_and_delete_stops_its_streamer(
    orchestrator_up: Callable[..., UpProcess],
) -> None:
    up = orchestrator_up(pool=1, max_sessions=2)
    client = httpx.Client(base_url=up.base_url, timeout=30, trust_env=False)
    wait_until(
        lambda: client.get("/readyz").json()["warm_streamers"] == 1,
        START_TIMEOUT_S,
        lambda: f"a warm streamer:\n{up.log()}",
    )
    assert "IX Stream" in client.get("/").text  # the web client (or its stand-in page)

    created = client.post("/v1/sessions", json={}, headers=auth("alice"))
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["state"] == "ready"
    assert session["whep_url"] == f"{up.base_url}/v1/sessions/{session['id']}/whep"
    spectator = client.post(f"/v1/sessions/{session['id']}/spectators", headers=auth("alice"))
    assert spectator.status_code == 201, spectator.text

    with ThreadPoolExecutor(2) as pool:
        trainee = pool.submit(watch, session["whep_url"], session["token"])
        watcher = pool.submit(watch, spectator.json()["whep_url"], spectator.json()["token"])
        rates = []  # the session's measured frame rate, as the operator console sees it

        def rate_seen_or_watching_over() -> bool:
            body = client.get(f"/v1/sessions/{session['id']}", headers=auth("alice")).json()
            rates.append(body["measured_fps"] or 0.0)
            return rates[-1] > 0 or (trainee.done() and watcher.done())

        wait_until(rate_seen_or_watching_over, START_TIMEOUT_S, "a rate, or both viewers done")
        reports = [trainee.result(), watcher.result()]
    assert max(rates) > 0, rates
    for report in reports:
        assert report["frames"] > 0, report
        assert report["time_to_first_frame_ms"] is not None

    seen = client.get(f"/v1/sessions/{session['id']}", headers=auth("alice")).json()
    assert seen["state"] == "active"
    wait_until(
        lambda: client.get(f"/v1/sessions/{session['id']}", headers=auth("alice")).json()[
            "frames_sent"] >= max(r["frames"] for r in reports), 5, "every frame counted",
    )  # fmt: skip
    wait_until(
        lambda: client.get(f"/v1/sessions/{session['id']}", headers=auth("alice")).json()[
            "first_frame_at"] is not None, 5, "the first frame's time reported",
    )  # fmt: skip
    metrics = client.get("/metrics").text
    assert 'ixstream_orchestrator_session_first_frame_seconds_count{kind="warm"} 1.0' in metrics

    pid = streamer_pid(up, session["id"])
    deleted_at = time.monotonic()
    ended = client.delete(f"/v1/sessions/{session['id']}", headers=auth("alice"))
    assert ended.status_code == 202
    wait_until(lambda: not procfs.is_running(pid, None), 5, "the streamer stopped")
    assert time.monotonic() - deleted_at < 5
    wait_until(
        lambda: client.get(f"/v1/sessions/{session['id']}", headers=auth("alice")).json()[
            "state"] == "ended", 5, "the session ended",
    )  # fmt: skip
    audit = [json.loads(x) for x in (up.state_dir / "audit.jsonl").read_text().splitlines()]
    actions = [a["action"] for a in audit if a["session"] == session["id"]]
    for expected in ("session.create", "session.claim", "session.join", "session.end"):
        assert expected in actions


def streamer_pid(up: UpProcess, session_id: str) -> int:
    for path in (up.state_dir / "streamers").glob("*.json"):
        record = json.loads(path.read_text())
        if record["session_id"] == session_id:
            pid: int = record["pid"]
            return pid
    raise AssertionError(f"no streamer recorded for {session_id}")
