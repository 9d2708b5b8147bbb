"""Idle timeout and maximum duration, driven by a clock moved by hand (kopf-style)."""

from __future__ import annotations

from orchestrator.clock import ManualClock
from orchestrator.sessions.lifetime import expiry
from orchestrator.sessions.states import EndReason

IDLE = 60.0
MAX = 600.0


def verdict(
    clock: ManualClock, ready_at: float, viewers: int, left_at: float | None
) -> EndReason | None:
    return expiry(
        now=clock.now(),
        ready_at=ready_at,
        viewers=viewers,
        last_viewer_left_at=left_at,
        idle_timeout_s=IDLE,
        max_duration_s=MAX,
    )


def test_a_session_nobody_ever_opens_ends_idle_after_the_timeout() -> None:
    clock = ManualClock()
    ready_at = clock.now()
    clock.advance(IDLE - 0.1)
    assert verdict(clock, ready_at, viewers=0, left_at=None) is None
    clock.advance(0.1)
    assert verdict(clock, ready_at, viewers=0, left_at=None) is EndReason.IDLE_TIMEOUT


def test_a_watched_session_is_never_idle() -> None:
    clock = ManualClock()
    ready_at = clock.now()
    clock.advance(IDLE * 5)
    assert verdict(clock, ready_at, viewers=1, left_at=None) is None


def test_idle_time_counts_from_the_last_viewer_leaving() -> None:
    clock = ManualClock()
    ready_at = clock.now()
    clock.advance(IDLE * 2)  # watched all along, then the viewer leaves
    left_at = clock.now()
    clock.advance(IDLE - 1)
    assert verdict(clock, ready_at, viewers=0, left_at=left_at) is None
    clock.advance(1)
    assert verdict(clock, ready_at, viewers=0, left_at=left_at) is EndReason.IDLE_TIMEOUT


def test_maximum_duration_ends_even_a_watched_session() -> None:
    clock = ManualClock()
    ready_at = clock.now()
    clock.advance(MAX - 1)
    assert verdict(clock, ready_at, viewers=2, left_at=None) is None
    clock.advance(1)
    assert verdict(clock, ready_at, viewers=2, left_at=None) is EndReason.MAX_DURATION


def test_maximum_duration_wins_over_idle_when_both_apply() -> None:
    clock = ManualClock()
    ready_at = clock.now()
    clock.advance(MAX)
    assert verdict(clock, ready_at, viewers=0, left_at=None) is EndReason.MAX_DURATION


def test_a_manual_clock_refuses_to_run_backwards() -> None:
    clock = ManualClock()
    try:
        clock.advance(-1)
    except ValueError:
        return
    raise AssertionError("advance(-1) was accepted")
