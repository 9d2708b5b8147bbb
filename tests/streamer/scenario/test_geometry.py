"""Gaze and floor-plan geometry: the gaze is the head's -z axis, angles and the reach of
an unnamed act, and bounds from numpy arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixstream.pose import Pose
from streamer.scenario.geometry import (
    as_bounds,
    bottom_centre,
    centre,
    floor_distance,
    gaze_angle_deg,
    gaze_direction,
    gaze_target,
)
from tests.streamer.scenario.support import facing, head


@pytest.mark.parametrize(
    ("yaw_deg", "expected"),
    [(0, (0.0, 0.0, -1.0)), (90, (-1.0, 0.0, 0.0)), (180, (0.0, 0.0, 1.0)), (-90, (1.0, 0.0, 0.0))],
)
def test_the_gaze_is_minus_z_turned_by_the_heads_yaw(
    yaw_deg: float, expected: tuple[float, float, float]
) -> None:
    assert gaze_direction(head(0, 0, yaw_deg).orientation) == pytest.approx(expected, abs=1e-12)


def test_pitching_up_raises_the_gaze() -> None:
    half = math.radians(30) / 2
    gaze = gaze_direction((math.sin(half), 0.0, 0.0, math.cos(half)))

    assert gaze == pytest.approx((0.0, 0.5, -math.sqrt(3) / 2))


def test_a_denormalised_or_zero_quaternion_still_gives_a_unit_gaze() -> None:
    assert gaze_direction((0.0, 2.0, 0.0, 0.0)) == pytest.approx((0.0, 0.0, 1.0))
    assert gaze_direction((0.0, 0.0, 0.0, 0.0)) == (0.0, 0.0, -1.0)


def test_facing_a_point_aims_the_gaze_at_it() -> None:
    pose = facing((1.0, 1.6, 2.0), (4.0, 0.6, -2.0))

    assert gaze_angle_deg(pose, (4.0, 0.6, -2.0)) == pytest.approx(0.0, abs=1e-6)


def test_the_gaze_angle_is_measured_in_three_dimensions() -> None:
    pose = Pose((0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0))

    assert gaze_angle_deg(pose, (0.0, 2.0, -1.0)) == pytest.approx(45.0)
    assert gaze_angle_deg(pose, (0.0, 1.0, 5.0)) == pytest.approx(180.0)
    assert gaze_angle_deg(pose, (0.0, 1.0, 0.0)) == math.inf  # at the head: no direction


def test_floor_distance_ignores_height() -> None:
    assert floor_distance((0.0, 9.0, 0.0), (3.0, -2.0, 4.0)) == 5.0


def test_an_actor_stands_at_the_bottom_centre_of_its_box() -> None:
    box = as_bounds(np.array([-3.2, 0.0, 1.88]), np.array([-2.8, 1.72, 2.12]))

    assert bottom_centre(box) == pytest.approx((-3.0, 0.0, 2.0))
    assert centre(box) == pytest.approx((-3.0, 0.86, 2.0))
    assert all(type(v) is float for corner in box for v in corner)


def test_the_gaze_target_is_the_candidate_nearest_the_ray_in_reach() -> None:
    pose = head(0.0, 0.0, y=0.0)  # looking down -z from the origin
    candidates = {
        "wide": (0.5, 0.0, -2.0),  # 14 degrees off, 0.49 m from the ray
        "close": (0.2, 0.0, -2.5),  # 4.6 degrees off, 0.2 m from the ray
        "far": (0.0, 0.0, -3.5),  # on the ray but beyond 3 m
        "outside": (1.0, 0.0, -1.0),  # 45 degrees off
    }

    assert gaze_target(pose, candidates) == "close"
    assert gaze_target(pose, {"far": candidates["far"]}) is None
    assert gaze_target(pose, {"wide": candidates["wide"]}) == "wide"
    assert gaze_target(pose, {}) is None
