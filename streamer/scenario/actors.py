"""Actors walking paths: where each actor is at scenario time `t`.

A walk is stored as when it began, where from, and the route, so an actor's position is
a pure function of `t` (pausing the clock stops it mid-stride, and a new `move_actor`
simply starts a new walk from wherever the old one had got to).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from ixstream.pose import Vec3
from streamer.scenario.geometry import length, lerp, sub

DEFAULT_SPEED_M_S = 1.4  # a steady walk; FollowPath's default too


def along(points: Sequence[Vec3], distance: float) -> Vec3:
    """The point `distance` metres along the polyline `points` (clamped to its end)."""
    for a, b in pairwise(points):
        leg = length(sub(b, a))
        if distance <= leg:
            return lerp(a, b, distance / leg) if leg > 0 else b
        distance -= leg
    return points[-1]


def polyline_length(points: Sequence[Vec3]) -> float:
    return sum(length(sub(b, a)) for a, b in pairwise(points))


@dataclass(frozen=True, slots=True)
class Walk:
    """From `origin` through `points` in order at `speed_m_s`, starting at `start_t`.

    A looping walk, once at the last point, goes back to the first and round again.
    """

    start_t: float
    origin: Vec3
    points: tuple[Vec3, ...]
    speed_m_s: float
    loop: bool

    def position(self, t: float) -> Vec3:
        walked = max(0.0, t - self.start_t) * self.speed_m_s
        first_pass = (self.origin, *self.points)
        first_length = polyline_length(first_pass)
        if walked <= first_length or not self.loop:
            return along(first_pass, walked)
        cycle = (self.points[-1], *self.points)  # a lap: back to the first point and round
        cycle_length = polyline_length(cycle)
        if cycle_length == 0.0:
            return self.points[0]
        return along(cycle, (walked - first_length) % cycle_length)


@dataclass(slots=True)
class ActorMotion:
    """One actor: where the scene put it (`home`, its node's bottom centre) and its walk."""

    node: str
    home: Vec3
    speed_m_s: float = DEFAULT_SPEED_M_S
    walk: Walk | None = None

    def position(self, t: float) -> Vec3:
        return self.home if self.walk is None else self.walk.position(t)

    def offset(self, t: float) -> Vec3:
        """Translation to apply to the node: where it is now minus where the scene put it."""
        return sub(self.position(t), self.home)

    def walk_to(self, points: Sequence[Vec3], loop: bool, t: float) -> None:
        """Start walking the route from wherever the actor is at `t`."""
        self.walk = Walk(t, self.position(t), tuple(points), self.speed_m_s, loop)
