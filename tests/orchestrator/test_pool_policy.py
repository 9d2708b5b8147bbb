"""The warm-pool policy: how many streamers to start or retire, the back-off after
failed starts, and which unrecorded streamers this replica's own pool counts as its
own (so the reaper leaves a warm streamer alone between its spawn and its recording)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from orchestrator.backends.base import Streamer, StreamerPhase, StreamerProfile
from orchestrator.backends.local import LocalBackendConfig, LocalProcessBackend
from orchestrator.clock import ManualClock
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.pool import MAX_BACKOFF_S, WarmPool, backoff_delay, pool_deficit


def test_an_empty_orchestrator_fills_the_pool_to_its_size() -> None:
    assert pool_deficit(desired=2, max_sessions=4, holding=0, warm=0) == 2


def test_starts_in_flight_count_so_a_refill_is_not_doubled() -> None:
    assert pool_deficit(desired=2, max_sessions=4, holding=0, warm=2) == 0


def test_a_claim_is_followed_by_a_refill() -> None:
    # One warm streamer was claimed: one session holds it, the pool is empty again.
    assert pool_deficit(desired=1, max_sessions=4, holding=1, warm=0) == 1


def test_warm_streamers_never_push_the_total_past_max_sessions() -> None:
    assert pool_deficit(desired=2, max_sessions=4, holding=3, warm=0) == 1
    assert pool_deficit(desired=2, max_sessions=4, holding=4, warm=0) == 0


def test_surplus_warm_streamers_are_retired_when_sessions_take_the_room() -> None:
    assert pool_deficit(desired=1, max_sessions=2, holding=2, warm=1) == -1


def test_a_pool_of_zero_starts_nothing_and_retires_adopted_streamers() -> None:
    assert pool_deficit(desired=0, max_sessions=4, holding=0, warm=0) == 0
    assert pool_deficit(desired=0, max_sessions=4, holding=0, warm=2) == -2


def test_failed_starts_back_off_exponentially_up_to_a_cap() -> None:
    assert backoff_delay(0) == 0.0
    assert [backoff_delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_delay(50) == MAX_BACKOFF_S


START_TIMEOUT_S = 60.0
PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)


def local_pool(tmp_path: Path, clock: ManualClock) -> WarmPool:
    backend = LocalProcessBackend(LocalBackendConfig(state_dir=tmp_path), clock)
    metrics = OrchestratorMetrics(CollectorRegistry())
    return WarmPool(
        backend, PROFILE, desired=1, start_timeout_s=START_TIMEOUT_S, clock=clock, metrics=metrics
    )


OWNED_BY_THE_LOCAL_POOL = {
    "a warm streamer still starting, younger than the start timeout, is the pool's": (
        None, StreamerPhase.STARTING, START_TIMEOUT_S - 1, True
    ),
    "a warm streamer still starting after the start timeout is nobody's": (
        None, StreamerPhase.STARTING, START_TIMEOUT_S, False
    ),
    "a ready warm streamer the pool never recorded is nobody's": (
        None, StreamerPhase.READY, 1.0, False
    ),
    "a young streamer bound to a session is not the pool's": (
        "s-1", StreamerPhase.STARTING, 1.0, False
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", OWNED_BY_THE_LOCAL_POOL.values(), ids=OWNED_BY_THE_LOCAL_POOL)
def test_the_local_pool_owns(
    case: tuple[str | None, StreamerPhase, float, bool], tmp_path: Path
) -> None:
    session_id, phase, age_s, owned = case
    clock = ManualClock()
    streamer = Streamer("w-1", PROFILE, "key", phase, session_id, None, clock.now())
    clock.advance(age_s)
    assert local_pool(tmp_path, clock).owns(streamer) is owned
