"""The session service with real streamers: a warm claim is ready at once and the pool
refills behind it; a cold start goes starting → ready; idle and over-long sessions are
ended on a clock the test moves (the streamer stays real)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from orchestrator.clock import ManualClock
from orchestrator.identity import Principal, Role
from orchestrator.sessions.states import EndReason, SessionState
from tests.orchestrator.conftest import (
    Harness,
    eventually,
    running_app,
    settings_for,
    streamer_pids,
)

pytestmark = pytest.mark.e2e
S = SessionState
ALICE = Principal("alice", Role.TRAINEE)


async def test_a_session_claims_a_warm_streamer_and_the_pool_refills(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]], tmp_path: Path
) -> None:
    async with make_app(pool_size=1, max_sessions=2) as h:
        service = h.service
        await eventually(lambda: service.pool.ready_count == 1)
        session = await service.create(ALICE, service.default_spec(), wait=False)
        assert session.state is S.READY  # no waiting: the streamer was already running
        assert session.start_kind == "warm"
        assert session.streamer is not None
        assert session.streamer.session_id == session.id
        await eventually(lambda: service.pool.ready_count == 1)  # refilled in the background
        assert len(streamer_pids(tmp_path / "state")) == 2

        await service.end(ALICE, session.id)
        await eventually(lambda: session.state is S.ENDED, 10)
        assert session.lifecycle.reason == EndReason.DELETED
        assert [t.target for t in session.lifecycle.history] == [
            S.PENDING, S.STARTING, S.READY, S.ENDING, S.ENDED
        ]  # fmt: skip
    assert streamer_pids(tmp_path / "state") == []


async def test_a_cold_start_is_starting_until_its_streamer_is_ready(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]], tmp_path: Path
) -> None:
    async with make_app(pool_size=0) as h:
        service = h.service
        session = await service.create(ALICE, service.default_spec(), wait=False)
        assert session.state is S.STARTING
        assert service.gate.owner_token(ALICE, session) is not None  # the key is known already
        await eventually(lambda: session.state is S.READY)
        assert session.start_kind == "cold"
        metrics = (await h.client.get("/metrics")).text
        assert 'ixstream_orchestrator_claims_total{kind="cold"} 1.0' in metrics
        assert 'ixstream_orchestrator_session_ready_seconds_count{kind="cold"} 1.0' in metrics


@pytest.mark.parametrize(
    ("idle_s", "max_s", "advance_s", "reason"),
    [(30, 3600, 31, EndReason.IDLE_TIMEOUT), (3600, 60, 61, EndReason.MAX_DURATION)],
    ids=["idle", "max-duration"],
)
async def test_a_session_is_ended_when_its_time_is_up(
    tmp_path: Path, idle_s: float, max_s: float, advance_s: float, reason: EndReason
) -> None:
    clock = ManualClock()
    settings = settings_for(tmp_path / "state", idle_timeout_s=idle_s, max_duration_s=max_s)
    async with running_app(settings, clock) as h:
        service = h.service
        session = await service.create(ALICE, service.default_spec(), wait=False)
        await eventually(lambda: session.state is S.READY)
        clock.advance(advance_s - 2)
        for _ in range(2):  # two polls on the moved clock: still within its time
            await service.poll_streamers()
        assert session.state is S.READY
        clock.advance(2)
        await eventually(lambda: session.state is S.ENDED, 10)
        assert session.lifecycle.reason == reason
        assert streamer_pids(tmp_path / "state") == []
