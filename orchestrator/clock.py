"""Time as a dependency, so lifetime rules can be tested with a clock we move by hand.

The orchestrator reads wall-clock seconds (unix time) because the streamer reports its
events (`first_frame_sent_at`, `last_viewer_left_at`) in unix seconds and both run on
the same host (or on nodes kept in sync by NTP, for the Kubernetes backend).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time in unix seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to: the kopf-style fast-forwarding clock for tests."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock never runs backwards")
        self._now += seconds
