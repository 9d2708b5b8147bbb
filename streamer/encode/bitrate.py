"""Turns receiver bandwidth estimates into a calm encoder bitrate target.

Receivers report what they can take (REMB, draft-alvestrand-rmcat-remb; the
same holds for any per-viewer estimate). One encoded stream feeds every viewer
of its codec (encode once, send to many; one controller per codec in use), so
the stream's target is the lowest estimate among its viewers that reported
recently: the slowest link sets the pace, and a viewer that stopped reporting
(left, or its feedback is lost) stops holding everyone back after
`viewer_timeout_s`.

Raw estimates are noisy and, while a receiver ramps up, change every report.
aiortc's stock encoders follow every change over 10 % and re-create the
encoder each time, with a keyframe (FIELD-NOTES trap 1: 8-13 times in the
first 25 s). Here the target is smoothed (drops followed within a fraction of
a second, rises over seconds: sending too much costs loss and delay, sending
too little only costs quality) and only emitted when it moved by more than
`min_change` and at least `min_interval_s` after the previous change
(`min_rise_interval_s` for a rise: a receiver ramping up from 300 kbps to
8 Mbps then costs about eight changes in 25 s instead of one per report).

The controller is pure: the caller passes the time in (any monotonic clock in
seconds), so tests fast-forward it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BitrateSettings:
    min_bps: int = 300_000  # below this a 3D scene is unreadable; hold quality, drop nothing
    max_bps: int = 8_000_000  # the encoder's ceiling (its VBV is sized for it at open)
    viewer_timeout_s: float = 5.0  # REMB comes about once a second; five missed means gone
    down_time_constant_s: float = 0.3  # after 1 s, 96 % of a drop is followed
    up_time_constant_s: float = 3.0  # after 1 s, 28 % of a rise is followed
    min_change: float = 0.15  # relative move of the smoothed value that is worth a change
    min_interval_s: float = 1.0  # a drop waits at least this long after the last change
    min_rise_interval_s: float = 3.0  # a rise can wait longer: fewer, larger steps up

    def clamp(self, bitrate_bps: float) -> float:
        return max(float(self.min_bps), min(float(self.max_bps), bitrate_bps))


@dataclass(slots=True)
class _Estimate:
    bitrate_bps: int
    at_s: float


class BitrateController:
    """Merges per-viewer estimates into the stream's target bitrate.

    `report`, `forget` and `update` return the new target when the encoder
    should change, else None; `target_bps` is always the current one. Not
    thread-safe: the owner of the stream's feedback calls it.
    """

    def __init__(
        self, start_bps: int, now_s: float, settings: BitrateSettings | None = None
    ) -> None:
        self.settings = settings or BitrateSettings()
        self._target_bps = round(self.settings.clamp(start_bps))
        self._smoothed_bps = float(self._target_bps)
        self._last_update_s = now_s
        self._last_change_s = -math.inf
        self._viewers: dict[str, _Estimate] = {}

    @property
    def target_bps(self) -> int:
        return self._target_bps

    @property
    def smoothed_bps(self) -> float:
        return self._smoothed_bps

    @property
    def viewers(self) -> frozenset[str]:
        """Viewers whose estimates currently count."""
        return frozenset(self._viewers)

    def report(self, viewer: str, estimate_bps: int, now_s: float) -> int | None:
        """Records a viewer's estimate (e.g. from an RTCP REMB packet)."""
        self._viewers[viewer] = _Estimate(estimate_bps, now_s)
        return self.update(now_s)

    def forget(self, viewer: str, now_s: float) -> int | None:
        """Drops a viewer that disconnected, so its estimate no longer holds the stream down."""
        self._viewers.pop(viewer, None)
        return self.update(now_s)

    def update(self, now_s: float) -> int | None:
        """Re-evaluates at `now_s`; call it periodically so stale viewers age out."""
        self._drop_stale(now_s)
        bottleneck = self._bottleneck_bps()
        if bottleneck is not None:
            self._smooth_towards(bottleneck, now_s)
        self._last_update_s = max(self._last_update_s, now_s)
        return self._maybe_change(now_s)

    def _drop_stale(self, now_s: float) -> None:
        timeout = self.settings.viewer_timeout_s
        stale = [v for v, e in self._viewers.items() if now_s - e.at_s > timeout]
        for viewer in stale:
            del self._viewers[viewer]

    def _bottleneck_bps(self) -> float | None:
        if not self._viewers:
            return None  # nobody reports: keep what we have
        return self.settings.clamp(min(e.bitrate_bps for e in self._viewers.values()))

    def _smooth_towards(self, bottleneck_bps: float, now_s: float) -> None:
        """A time-based EWMA, so the result does not depend on how often viewers report."""
        falling = bottleneck_bps < self._smoothed_bps
        tau = self.settings.down_time_constant_s if falling else self.settings.up_time_constant_s
        elapsed = max(0.0, now_s - self._last_update_s)
        weight = 1.0 - math.exp(-elapsed / tau)
        self._smoothed_bps += weight * (bottleneck_bps - self._smoothed_bps)

    def _maybe_change(self, now_s: float) -> int | None:
        candidate = self._candidate_bps()
        if candidate is None:
            return None
        rising = candidate > self._target_bps
        wait = self.settings.min_rise_interval_s if rising else self.settings.min_interval_s
        if now_s - self._last_change_s < wait:
            return None
        self._target_bps = candidate
        self._last_change_s = now_s
        return candidate

    def _candidate_bps(self) -> int | None:
        """The smoothed value when it moved enough, snapped to a bound it (almost) reached.

        Without the snap an exponential approach would stop just short of a
        bound for ever (15 % below the ceiling, say).
        """
        smoothed = self._smoothed_bps
        for bound in (self.settings.min_bps, self.settings.max_bps):
            if abs(smoothed - bound) <= 0.01 * bound:
                return bound if self._target_bps != bound else None
        if abs(smoothed - self._target_bps) <= self.settings.min_change * self._target_bps:
            return None
        return round(smoothed)
