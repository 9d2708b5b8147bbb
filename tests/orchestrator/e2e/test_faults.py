"""Faults, on purpose: a streamer killed with SIGKILL, the orchestrator itself killed
and restarted, and a full house with a queue. Every process here is real."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.backends import procfs
from orchestrator.identity import Principal, Role
from orchestrator.sessions.states import FailureReason, SessionState
from tests.orchestrator.conftest import START_TIMEOUT_S, Harness, UpProcess, auth, streamer_pids
from tests.waiting import eventually, wait_until

pytestmark = pytest.mark.e2e
S = SessionState


def streamer_records(state_dir: Path) -> list[dict[str, Any]]:
    records = []
    for path in (state_dir / "streamers").glob("*.json"):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):  # being replaced this very moment
            continue
    return records


def pid_of_session(state_dir: Path, session_id: str) -> int:
    (record,) = [r for r in streamer_records(state_dir) if r["session_id"] == session_id]
    pid: int = record["pid"]
    return pid


async def test_a_streamer_killed_with_sigkill_fails_its_session_and_the_pool_recovers(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]], tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    async with make_app(pool_size=1, max_sessions=2) as h:
        service = h.service
        await eventually(lambda: service.pool.ready_count == 1, what="a warm streamer")
        alice = Principal("alice", Role.TRAINEE)
        session = await service.create(alice, service.default_spec(), wait=False)
        assert session.state is S.READY
        await eventually(lambda: service.pool.ready_count == 1, what="the pool refilled")

        os.kill(pid_of_session(state_dir, session.id), signal.SIGKILL)
        await eventually(lambda: session.state is S.FAILED, 10, "the session failed")
        assert session.lifecycle.reason == FailureReason.STREAMER_EXITED
        assert "SIGKILL" in (session.lifecycle.detail or "")
        assert service.holding() == 0  # capacity restored
        body = (await h.client.get(f"/v1/sessions/{session.id}", headers=auth())).json()
        assert (body["state"], body["reason"]) == ("failed", "streamer_exited")

        # A warm streamer that dies is replaced too.
        (warm,) = [r for r in streamer_records(state_dir) if r["session_id"] is None]
        os.kill(warm["pid"], signal.SIGKILL)
        await eventually(
            lambda: (
                service.pool.ready_count == 1
                and warm["id"] not in {r["id"] for r in streamer_records(state_dir)}
            ),
            what="the pool replaced its dead streamer",
        )
        metrics = (await h.client.get("/metrics")).text
        assert 'session_failures_total{reason="streamer_exited"} 1.0' in metrics
    assert streamer_pids(state_dir) == []


async def test_when_full_a_waiting_request_is_queued_first_in_line_and_starts_when_one_ends(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app(pool_size=0, max_sessions=2) as h:
        created = []
        for user in ("alice", "bob"):
            response = await h.client.post("/v1/sessions", json={}, headers=auth(user))
            assert response.status_code == 201
            created.append(response.json()["id"])
        third = await h.client.post("/v1/sessions?wait=true", json={}, headers=auth("carol"))
        assert third.status_code == 201
        assert (third.json()["state"], third.json()["queue_position"]) == ("pending", 1)
        carol = h.service.get_any(third.json()["id"])

        await h.client.delete(f"/v1/sessions/{created[0]}", headers=auth("alice"))
        await eventually(lambda: carol.state is not S.PENDING, 10, "carol's session started")
        await eventually(lambda: carol.state is S.READY, what="carol's session ready")
        body = (await h.client.get(f"/v1/sessions/{carol.id}", headers=auth("carol"))).json()
        assert body["queue_position"] is None
        assert body["token"]
        metrics = (await h.client.get("/metrics")).text
        assert "ixstream_orchestrator_queue_wait_seconds_count 1.0" in metrics


def api(up: UpProcess, method: str, path: str, user: str = "alice", **kwargs: Any) -> Any:
    response = httpx.request(
        method, f"{up.base_url}{path}", headers=auth(user, Role.TRAINEE), timeout=30,
        trust_env=False, **kwargs,
    )  # fmt: skip
    assert response.status_code < 300, response.text
    return response.json()


def test_a_killed_and_restarted_orchestrator_readopts_or_accounts_for_every_session(
    orchestrator_up: Callable[..., UpProcess], tmp_path: Path
) -> None:
    up = orchestrator_up(pool=1, max_sessions=2)
    state_dir = up.state_dir
    wait_until(
        lambda: api(up, "GET", "/readyz")["warm_streamers"] == 1,
        START_TIMEOUT_S,
        lambda: f"a warm streamer:\n{up.log()}",
    )
    kept = api(up, "POST", "/v1/sessions", json={})  # warm claim: ready at once
    lost = api(up, "POST", "/v1/sessions", "bob", json={})  # cold start
    queued = api(up, "POST", "/v1/sessions?wait=true", "carol", json={})
    assert (kept["state"], queued["state"], queued["queue_position"]) == ("ready", "pending", 1)
    wait_until(
        lambda: api(up, "GET", f"/v1/sessions/{lost['id']}", "bob")["state"] == "ready",
        START_TIMEOUT_S,
        lambda: f"bob's cold start ready:\n{up.log()}",
    )

    up.stop(signal.SIGKILL)  # no shutdown handler runs: streamers are left behind
    lost_pid = pid_of_session(state_dir, lost["id"])
    os.kill(lost_pid, signal.SIGKILL)  # and one of them dies while nobody watches
    wait_until(lambda: not procfs.is_running(lost_pid, None), 5, "the lost streamer stopped")

    again = orchestrator_up(pool=1, max_sessions=2)
    by_id = {
        s["id"]: api(again, "GET", f"/v1/sessions/{s['id']}", s["owner"])
        for s in (kept, lost, queued)
    }
    assert by_id[kept["id"]]["state"] == "ready"  # re-adopted, same streamer
    assert (by_id[lost["id"]]["state"], by_id[lost["id"]]["reason"]) == (
        "failed", "lost_on_restart"
    )  # fmt: skip
    # The queued one kept its place and takes the slot the lost one freed.
    assert by_id[queued["id"]]["state"] in ("pending", "starting", "ready")
    wait_until(
        lambda: api(again, "GET", f"/v1/sessions/{queued['id']}", "carol")["state"] == "ready",
        START_TIMEOUT_S,
        lambda: f"carol's queued session ready:\n{again.log()}",
    )

    # No orphan: every live streamer belongs to a live session (full again, so the pool
    # keeps none), and every streamer process is one the orchestrator knows about.
    def settled() -> bool:
        records = streamer_records(state_dir)
        owners = sorted(r["session_id"] or "pool" for r in records)
        known = {r["pid"] for r in records} == set(streamer_pids(state_dir))
        return known and owners == sorted([kept["id"], queued["id"]])

    wait_until(settled, 15, lambda: f"settled: {streamer_records(state_dir)}\n{again.log()}")
    audit = [json.loads(line) for line in (state_dir / "audit.jsonl").read_text().splitlines()]
    assert {"session.adopt", "session.fail"} <= {a["action"] for a in audit}
