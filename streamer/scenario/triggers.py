"""Watching one trigger's condition from frame to frame.

Every condition fires on its rising edge: `time_elapsed` when t first reaches `after_s`,
`enters_zone` on stepping from outside to inside, `looks_at` when a continuous look first
reaches `dwell_s`. A `once: false` trigger therefore fires again only after the condition
has stopped holding and holds again (leaving and re-entering a zone, looking away and
back), never on every frame. `acts_on` and `instructor_event` are events, matched when
they happen rather than each frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ixstream.pose import Pose, Vec3
from ixstream.scenario.model import (
    ActsOn,
    EntersZone,
    InstructorSignal,
    LooksAt,
    TimeElapsed,
    Trigger,
)
from streamer.scenario.geometry import floor_distance, gaze_angle_deg

# Where an object's bounds centre is, or None while it is hidden (nothing to look at).
Locate = Callable[[str], Vec3 | None]


@dataclass(slots=True)
class TriggerWatch:
    """One trigger and what its condition did at the last frame."""

    trigger: Trigger
    fired: int = 0  # times fired this run
    held: bool = False  # the frame condition held at the last frame (edge detection)
    looking_since: float | None = None  # scenario t a continuous look began

    @property
    def spent(self) -> bool:
        """A `once` trigger that has fired is never evaluated again."""
        return self.trigger.once and self.fired > 0

    @property
    def cause(self) -> str:
        return self.trigger.when.kind

    def frame(self, t: float, head: Pose, locate: Locate) -> bool:
        """Evaluate a per-frame condition; True when it has just become true."""
        holds = self._holds(t, head, locate)
        rising = holds and not self.held
        self.held = holds
        return rising and not self.spent

    def matches_act(self, object_id: str | None, action: str) -> bool:
        when = self.trigger.when
        return (
            not self.spent
            and isinstance(when, ActsOn)
            and when.object == object_id
            and when.action == action
        )

    def matches_event(self, event_id: str) -> bool:
        when = self.trigger.when
        return not self.spent and isinstance(when, InstructorSignal) and when.event == event_id

    def _holds(self, t: float, head: Pose, locate: Locate) -> bool:
        when = self.trigger.when
        if isinstance(when, TimeElapsed):
            return t >= when.after_s
        if isinstance(when, EntersZone):
            return floor_distance(head.position, when.zone.center) <= when.zone.radius_m
        if isinstance(when, LooksAt):
            return self._looked_long_enough(t, head, locate(when.object), when)
        return False  # events: see matches_act / matches_event

    def _looked_long_enough(self, t: float, head: Pose, target: Vec3 | None, when: LooksAt) -> bool:
        if target is None or gaze_angle_deg(head, target) > when.max_angle_deg:
            self.looking_since = None
            return False
        if self.looking_since is None:
            self.looking_since = t
        return t - self.looking_since >= when.dwell_s
