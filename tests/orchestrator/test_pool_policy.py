"""The warm-pool policy: how many streamers to start or retire, and the back-off after
failed starts."""

from __future__ import annotations

from orchestrator.pool import MAX_BACKOFF_S, backoff_delay, pool_deficit


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
