"""The frame clock: fresh input starts a frame at once (within the rate cap); without
input the clock keeps the configured rate."""

from __future__ import annotations

import pytest

from streamer.frameclock import FrameClock

CLOCK = FrameClock(fps=60)
INTERVAL = 1 / 60


def test_the_first_frame_starts_now() -> None:
    assert CLOCK.next_due(10.0, None, False, None) == 10.0


def test_without_input_frames_come_every_interval() -> None:
    assert CLOCK.next_due(10.005, 10.0, False, None) == pytest.approx(10.0 + INTERVAL)


def test_a_fresh_pose_starts_a_frame_immediately_once_the_gap_allows() -> None:
    assert CLOCK.next_due(
        10.0 + 0.95 * INTERVAL, 10.0, True, 10.0 + 0.95 * INTERVAL
    ) == pytest.approx(10.0 + 0.95 * INTERVAL)


def test_a_fresh_pose_too_soon_waits_for_the_regular_tick() -> None:
    due = CLOCK.next_due(10.0 + 0.2 * INTERVAL, 10.0, True, 10.0 + 0.2 * INTERVAL)
    assert due == pytest.approx(10.0 + INTERVAL)


def test_while_poses_stream_the_clock_waits_longer_for_a_late_pose() -> None:
    due = CLOCK.next_due(10.001, 10.0, False, 9.99)
    assert due == pytest.approx(10.0 + 1.5 * INTERVAL)


def simulate(pose_hz: float, seconds: float = 2.0, clock: FrameClock = CLOCK) -> int:
    """Frames started in `seconds` while poses arrive at `pose_hz` (1 ms steps)."""
    now, last, frames, next_pose, fresh, last_pose = 0.0, None, 0, 0.0, False, None
    while now < seconds:
        if now >= next_pose:
            fresh, last_pose, next_pose = True, now, next_pose + 1 / pose_hz
        if clock.next_due(now, last, fresh, last_pose) <= now:
            last, frames, fresh = now, frames + 1, False
        now += 0.001
    return frames


def test_poses_at_the_frame_rate_pace_the_frames() -> None:
    assert 118 <= simulate(60) <= 122


def test_poses_at_a_drifting_double_rate_do_not_lower_the_frame_rate() -> None:
    thirty = FrameClock(fps=30)
    assert simulate(58, clock=thirty) >= 59  # a 60 Hz client whose timer runs slow, 30 fps
    assert simulate(110, clock=thirty) >= 59


def test_frames_lock_to_a_pose_stream_just_below_the_frame_rate() -> None:
    assert 114 <= simulate(58) <= 118  # a headset at 58 Hz: one frame per pose, no waiting


def test_poses_faster_than_the_frame_rate_do_not_raise_it_much() -> None:
    assert simulate(90) <= 2 * 66
    assert simulate(1000) <= 2 * 67
