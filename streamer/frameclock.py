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
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_GAP = 0.9  # of an interval: how soon after the last frame a fresh pose may start one
STREAMING_WINDOW_S = 0.5  # poses seen this recently mean "the client is streaming poses"
LATE_POSE_SLACK = 1.5  # while streaming, the clock waits this many intervals for a pose


@dataclass(frozen=True, slots=True)
class FrameClock:
    fps: float

    @property
    def interval_s(self) -> float:
        return 1.0 / self.fps

    def next_due(
        self, now: float, last_start: float | None, fresh_input: bool, last_input_at: float | None
    ) -> float:
        """The monotonic time at which the next frame should start (≤ now: start now)."""
        if last_start is None:
            return now
        if fresh_input:
            if now >= last_start + MIN_GAP * self.interval_s:
                return now
            return last_start + self.interval_s
        streaming = last_input_at is not None and now - last_input_at < STREAMING_WINDOW_S
        slack = LATE_POSE_SLACK if streaming else 1.0
        return last_start + slack * self.interval_s
