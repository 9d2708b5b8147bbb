"""When to start the next frame: on fresh input, else on the frame clock.

Motion-to-photon is the product. Rendering on a fixed clock makes every pose
wait, on average, half a frame interval before it is even looked at. So while
a headset streams poses, a fresh pose starts a frame at once if the last frame
started at least `MIN_GAP` intervals ago; a pose that comes sooner waits for
the regular clock tick (so poses at twice the frame rate do not raise the
rate, and never lower it either). With no fresh pose, the clock waits a little
longer for one while poses are streaming, so frames lock to the pose cadence.
With no pose stream (a desktop viewer, spectators, scene animation) frames
come on the clock at the configured rate.

Poses faster than the frame rate (a 60 Hz client on a 30 fps stream, a 90 Hz
headset on 60) add a race: the tick comes due with a pose that has waited most
of an interval while the next pose is a millisecond away. Starting then makes
that next pose wait a whole interval for the frame after (measured: a third of
poses waited 33 ms at 720p30, motion-to-photon p95 44 ms alone). So when the
pose stream is regular (`PoseCadence`) and the next pose is due sooner than the
pending one has already waited, the tick holds for it, at most `MAX_HOLD` of an
interval. Frames then start as poses arrive, and every other pose is shown at
once. A held tick is credited to the schedule (`tick_of`), so holding shifts the
frames' phase, never their rate.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_GAP = 0.9  # of an interval: how soon after the last frame a fresh pose may start one
STREAMING_WINDOW_S = 0.5  # poses seen this recently mean "the client is streaming poses"
LATE_POSE_SLACK = 1.5  # while streaming, the clock waits this many intervals for a pose
MAX_HOLD = 0.25  # of an interval: the longest a due tick waits for the next pose
ARRIVAL_SLACK = 0.1  # of an interval: how late an expected pose may be before the tick goes
CADENCE_SMOOTHING = 0.2  # weight of the newest gap in the pose period's moving average
REGULAR_JITTER = 0.25  # of the period: a steadier stream than this is worth holding for


class PoseCadence:
    """The period of the client's pose stream, and whether it is steady enough to predict.

    A headset's poses come on its display clock (72, 90 Hz) and a browser's on
    requestAnimationFrame: steady, so the next one can be expected. Mouse-look
    and keyboard input come when the user acts: irregular, never held for.
    """

    __slots__ = ("_jitter_s", "_last_at", "_period_s")

    def __init__(self) -> None:
        self._last_at: float | None = None
        self._period_s: float | None = None
        self._jitter_s = 0.0

    def observe(self, at: float) -> None:
        last, self._last_at = self._last_at, at
        if last is None:
            return
        gap = at - last
        if gap <= 0 or gap >= STREAMING_WINDOW_S:
            self._period_s, self._jitter_s = None, 0.0  # a pause: start over
            return
        if self._period_s is None:
            self._period_s = gap
            return
        a = CADENCE_SMOOTHING
        self._jitter_s = (1 - a) * self._jitter_s + a * abs(gap - self._period_s)
        self._period_s = (1 - a) * self._period_s + a * gap

    @property
    def period_s(self) -> float | None:
        """The steady stream's period, or None while it is unknown or irregular."""
        period = self._period_s
        if period is None or self._jitter_s > REGULAR_JITTER * period:
            return None
        return period


@dataclass(frozen=True, slots=True)
class FrameClock:
    fps: float

    @property
    def interval_s(self) -> float:
        return 1.0 / self.fps

    def next_due(
        self,
        now: float,
        last_tick: float | None,
        fresh_input: bool,
        last_input_at: float | None,
        pose_period_s: float | None = None,
    ) -> float:
        """The monotonic time at which the next frame should start (≤ now: start now).

        `last_tick` is the last frame's place on the schedule (`tick_of`);
        `pose_period_s` the pose stream's steady period, when it has one.
        """
        if last_tick is None:
            return now
        interval = self.interval_s
        if fresh_input:
            if now < last_tick + MIN_GAP * interval:
                return last_tick + interval
            hold = self._hold_for_next_pose(now, last_tick, last_input_at, pose_period_s)
            return now if hold is None else hold
        streaming = last_input_at is not None and now - last_input_at < STREAMING_WINDOW_S
        slack = LATE_POSE_SLACK if streaming else 1.0
        return last_tick + slack * interval

    def tick_of(
        self, started: float, last_tick: float | None, pose_period_s: float | None = None
    ) -> float:
        """Where a frame that started at `started` sits on the schedule.

        While poses come faster than frames (when ticks may hold), a frame that
        started late keeps its regular tick, so the next one is not pushed back
        by the hold; the credit is bounded by `MAX_HOLD`, so ticks cannot bank
        up and then release a burst of frames. Otherwise the frame's start is
        its tick: a pose stream at the frame rate moves the frames onto itself.
        """
        if last_tick is None or not self._holds(pose_period_s):
            return started
        regular = last_tick + self.interval_s
        return min(started, max(regular, started - MAX_HOLD * self.interval_s))

    def _holds(self, pose_period_s: float | None) -> bool:
        """Whether poses come faster than frames: otherwise each pose gets a frame."""
        return pose_period_s is not None and pose_period_s < MIN_GAP * self.interval_s

    def _hold_for_next_pose(
        self,
        now: float,
        last_tick: float,
        last_input_at: float | None,
        pose_period_s: float | None,
    ) -> float | None:
        """Until when to wait for the next pose instead of starting now, if at all.

        Worth it only when poses come faster than frames (`_holds`) and the
        next is due sooner than the pending one has waited: holding then costs
        the pending pose less than it saves the next.
        """
        interval = self.interval_s
        if last_input_at is None or pose_period_s is None or not self._holds(pose_period_s):
            return None
        expected = last_input_at + pose_period_s
        if expected - now > min(now - last_input_at, MAX_HOLD * interval):
            return None
        until = min(expected + ARRIVAL_SLACK * interval, last_tick + (1 + MAX_HOLD) * interval)
        return until if until > now else None
