"""Scenario time: seconds since the scenario started, not counting pauses.

Everything that moves (actors, fog ramps, flashing lights, captions, timers) is a pure
function of this one number, so pausing the clock freezes all of it at once and a test
can drive the runtime with any `now` it likes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ScenarioClock:
    """Turns monotonic `now` (seconds) into scenario time `t`."""

    started_at: float | None = None
    paused_at: float | None = None  # `now` when the current pause began
    paused_total: float = 0.0  # seconds spent in earlier, finished pauses
    stopped_t: float | None = None  # `t` when the scenario ended: time stops for good

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def start(self, now: float) -> None:
        self.started_at = now

    def t(self, now: float) -> float:
        """Scenario seconds at `now`: 0 before the start, frozen while paused or ended.

        Never negative, so a `now` slightly before the start (clocks read on two threads)
        does not produce a negative time in the log.
        """
        if self.stopped_t is not None:
            return self.stopped_t
        if self.started_at is None:
            return 0.0
        at = self.paused_at if self.paused_at is not None else now
        return max(0.0, at - self.started_at - self.paused_total)

    def pause(self, now: float) -> None:
        if self.paused_at is None:
            self.paused_at = now

    def resume(self, now: float) -> None:
        if self.paused_at is not None:
            self.paused_total += max(0.0, now - self.paused_at)
            self.paused_at = None

    def stop(self, t: float) -> None:
        """Freeze time at scenario time `t` for good (the scenario ended)."""
        self.stopped_t = t
        self.paused_at = None
