"""Floor-plan and gaze geometry for triggers, in the scene's y-up metre frame (WebXR's).

Pure functions on tuples: the runtime evaluates a handful of zones and objects per frame,
so plain `math` is quicker than building numpy arrays, and it keeps the results exact
enough to test with literal numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ixstream.pose import Pose, Quat, Vec3

Bounds = tuple[Vec3, Vec3]  # (low, high) corners of a world-space box
Corner = Vec3 | npt.NDArray[np.floating[Any]]
NodeBounds = tuple[Corner, Corner]
"""A box as callers have it: plain tuples, or `SceneGeometry.node_bounds`'s arrays."""

# How far and how far off the gaze ray an unnamed "use" reaches (scenario semantics).
ACT_MAX_ANGLE_DEG = 15.0
ACT_MAX_DISTANCE_M = 3.0


def as_bounds(low: Corner, high: Corner) -> Bounds:
    """Plain-float bounds from anything indexable (glTF bounds come as numpy arrays)."""
    return (
        (float(low[0]), float(low[1]), float(low[2])),
        (float(high[0]), float(high[1]), float(high[2])),
    )


def centre(bounds: Bounds) -> Vec3:
    """The middle of a box: what `looks_at` and `acts_on` aim at."""
    low, high = bounds
    return ((low[0] + high[0]) / 2, (low[1] + high[1]) / 2, (low[2] + high[2]) / 2)


def bottom_centre(bounds: Bounds) -> Vec3:
    """Where a box stands on the floor: an actor's position is its feet, not its middle."""
    low, high = bounds
    return ((low[0] + high[0]) / 2, low[1], (low[2] + high[2]) / 2)


def floor_distance(a: Vec3, b: Vec3) -> float:
    """Distance on the floor plan (x, z): zones ignore height so they suit any trainee."""
    return math.hypot(a[0] - b[0], a[2] - b[2])


def sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def add(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def length(v: Vec3) -> float:
    return math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


def lerp(a: Vec3, b: Vec3, f: float) -> Vec3:
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)


def gaze_direction(orientation: Quat) -> Vec3:
    """The head's -z axis rotated by its orientation (WebXR: a view looks down -z).

    The quaternion is normalised first, so a client that sends a slightly denormalised
    one still gets a unit gaze; a zero quaternion counts as no rotation.
    """
    x, y, z, w = orientation
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if n == 0.0:
        return (0.0, 0.0, -1.0)
    x, y, z, w = x / n, y / n, z / n, w / n
    # The third column of the rotation matrix, negated.
    return (-2 * (x * z + w * y), -2 * (y * z - w * x), -(1 - 2 * (x * x + y * y)))


def gaze_angle_deg(head: Pose, point: Vec3) -> float:
    """Angle between the gaze and the direction from the head to `point`, degrees.

    A point at the head itself has no direction: it counts as not looked at (infinity).
    """
    to = sub(point, head.position)
    d = length(to)
    if d == 0.0:
        return math.inf
    g = gaze_direction(head.orientation)
    cos = (g[0] * to[0] + g[1] * to[1] + g[2] * to[2]) / (length(g) * d)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def gaze_target(head: Pose, candidates: Mapping[str, Vec3]) -> str | None:
    """The candidate nearest the gaze ray within ACT_MAX_ANGLE_DEG and ACT_MAX_DISTANCE_M
    of the head, or None; ties go to the first candidate (document order)."""
    best: str | None = None
    best_off_ray = math.inf
    for name, point in candidates.items():
        d = length(sub(point, head.position))
        angle = gaze_angle_deg(head, point)
        if d > ACT_MAX_DISTANCE_M or angle > ACT_MAX_ANGLE_DEG:
            continue
        off_ray = d * math.sin(math.radians(angle))  # perpendicular distance to the ray
        if off_ray < best_off_ray:
            best, best_off_ray = name, off_ray
    return best
