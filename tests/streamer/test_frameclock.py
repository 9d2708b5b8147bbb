"""The frame clock: fresh input starts a frame at once (within the rate cap); without
input the clock keeps the configured rate; poses faster than frames hold a due tick
for the next pose, so no pose waits a whole interval."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from streamer.frameclock import LATE_POSE_SLACK, MAX_HOLD, MIN_GAP, FrameClock, PoseCadence

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


@dataclass
class Run:
    frames: int
    waits_ms: list[float]  # per pose: arrival → the start of the first frame that applied it
    starts: list[float] = field(default_factory=list)

    def wait_ms(self, quantile: float) -> float:
        ordered = sorted(self.waits_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * quantile))]


def arrivals(pose_hz: float, seconds: float, jitter_ms: float = 0.0, seed: int = 1) -> list[float]:
    """A steady pose stream, each pose late by up to `jitter_ms` (network, timers)."""
    rnd = random.Random(seed)
    count = int(seconds * pose_hz)
    return sorted(0.05 + k / pose_hz + rnd.uniform(0, jitter_ms) / 1000 for k in range(count))


def simulate_run(
    poses: list[float],
    seconds: float = 2.0,
    clock: FrameClock = CLOCK,
    step: float = 0.0002,
    learn_cadence: bool = True,
) -> Run:
    """The pipeline's loop in simulated time: it looks at the clock only when a pose
    arrives (a notify) or when the due time it waits for comes, as the real loop does.
    Without `learn_cadence` the clock never knows the pose period, so it never holds."""
    cadence = PoseCadence()
    now, wake, last_tick = 0.0, 0.0, None
    fresh, last_pose = False, None
    upcoming, pending = list(poses), []
    frames, waits, starts = 0, [], []
    while now < seconds:
        woke = now >= wake
        while upcoming and upcoming[0] <= now:
            arrived = upcoming.pop(0)
            cadence.observe(arrived)
            fresh, last_pose, woke = True, arrived, True
            pending.append(arrived)
        if woke:
            period = cadence.period_s if learn_cadence else None
            due = clock.next_due(now, last_tick, fresh, last_pose, period)
            if due <= now:
                last_tick = clock.tick_of(now, last_tick, period)
                frames, fresh, wake = frames + 1, False, now
                starts.append(now)
                waits += [(now - t) * 1000 for t in pending]
                pending = []
            else:
                wake = due
        now += step
    return Run(frames, waits, starts)


def simulate(pose_hz: float, seconds: float = 2.0, clock: FrameClock = CLOCK) -> int:
    """Frames started in `seconds` while poses arrive at `pose_hz`."""
    return simulate_run(arrivals(pose_hz, seconds), seconds, clock).frames


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


THIRTY = FrameClock(fps=30)


@pytest.mark.parametrize("jitter_ms", [0.5, 3.0])
def test_a_60_hz_pose_stream_on_a_30_fps_stream_waits_half_an_interval_at_most(
    jitter_ms: float,
) -> None:
    """The race this clock settles: the tick came due a moment before the next pose,
    which then waited a whole interval (33 ms) for the frame after."""
    run = simulate_run(arrivals(60, 10.0, jitter_ms), 10.0, THIRTY)
    assert 299 <= run.frames <= 301  # the hold shifts the frames' phase, not their rate
    assert run.wait_ms(0.95) <= 0.62 * 1000 / 30  # a pose in between: ≤ 16.7 ms and slack
    assert run.wait_ms(0.5) <= 0.5 * 1000 / 30


def test_without_holding_a_third_of_poses_would_wait_a_whole_interval() -> None:
    """The baseline of the test above, same poses: a clock that never learns the
    period (as for an irregular stream) never holds, and shows the race the hold removes."""

    run = simulate_run(arrivals(60, 10.0, 3.0), 10.0, THIRTY, learn_cadence=False)
    assert run.wait_ms(0.95) >= 0.9 * 1000 / 30


def test_a_headset_faster_than_the_stream_waits_less_than_before() -> None:
    ninety_on_sixty = simulate_run(arrivals(90, 10.0, 3.0), 10.0, FrameClock(fps=60))
    assert 595 <= ninety_on_sixty.frames <= 605
    assert ninety_on_sixty.wait_ms(0.95) <= 0.85 * 1000 / 60


def test_a_due_tick_holds_for_a_pose_due_sooner_than_the_pending_one_has_waited() -> None:
    interval = 1 / 30
    # last frame at 10.0; the pending pose came at +16.7 ms, the next is due at +33.4 ms
    due = THIRTY.next_due(10.0 + interval, 10.0, True, 10.0 + interval / 2, interval / 2 + 1e-4)
    assert 10.0 + interval < due <= 10.0 + (1 + MAX_HOLD) * interval


def test_a_pose_that_just_arrived_is_never_held() -> None:
    interval = 1 / 30
    now = 10.0 + interval
    assert THIRTY.next_due(now, 10.0, True, now, interval / 2) == now


def test_an_irregular_input_stream_is_never_held() -> None:
    cadence = PoseCadence()
    rnd = random.Random(7)
    t = 0.0
    for _ in range(200):
        t += rnd.uniform(0.002, 0.060)  # mouse-look: when the user moves
        cadence.observe(t)
    assert cadence.period_s is None
    interval = 1 / 30
    assert THIRTY.next_due(10.0 + interval, 10.0, True, 10.0 + 0.01, cadence.period_s) == (
        10.0 + interval
    )


def test_the_cadence_learns_a_steady_stream_and_forgets_it_after_a_pause() -> None:
    cadence = PoseCadence()
    for k in range(30):
        cadence.observe(k / 72)
    assert cadence.period_s == pytest.approx(1 / 72, rel=0.01)
    cadence.observe(30 / 72 + 1.0)  # the headset came off for a second
    assert cadence.period_s is None


def test_held_ticks_never_bank_up_into_a_burst() -> None:
    """Credit for a late start is bounded: a frame that started long after its tick
    sits at most `MAX_HOLD` before its start on the schedule."""
    interval = 1 / 30
    tick = THIRTY.tick_of(10.0 + 5 * interval, 10.0, interval / 2)
    assert tick == pytest.approx(10.0 + (5 - MAX_HOLD) * interval)
    assert THIRTY.tick_of(10.0 + 1.1 * interval, 10.0, interval / 2) == pytest.approx(
        10.0 + interval
    )
    assert THIRTY.tick_of(10.0 + 1.1 * interval, 10.0, None) == 10.0 + 1.1 * interval


@pytest.mark.parametrize("seed", range(12))
def test_no_pose_stream_can_stall_the_stream_or_make_it_race(seed: int) -> None:
    """A hostile or broken client picks its pose timing: bursts, pauses, rates from
    10 to 1,000 Hz, jitter as large as a frame. Whatever it sends, frames never come
    faster than the fresh-pose cap allows, and never further apart than the clock's
    wait for a late pose plus the longest hold."""
    rnd = random.Random(seed)
    poses, t = [], 0.05
    while t < 4.0:
        rate = rnd.uniform(10, 1000)
        burst_end = t + rnd.uniform(0.05, 0.6)
        while t < burst_end:
            poses.append(t + rnd.uniform(0, 0.033))
            t += 1 / rate
        t += rnd.choice([0.0, 0.0, rnd.uniform(0.01, 0.7)])  # now and then a pause
    run = simulate_run(sorted(poses), 4.0, THIRTY)
    interval = 1 / 30
    gaps = [b - a for a, b in zip(run.starts, run.starts[1:], strict=False)]
    assert min(gaps) >= (MIN_GAP - MAX_HOLD) * interval - 0.001
    assert max(gaps) <= (LATE_POSE_SLACK + MAX_HOLD) * interval + 0.001
    assert run.frames <= 4.0 / ((MIN_GAP - MAX_HOLD) * interval)
