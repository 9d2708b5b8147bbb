"""Camera math: WebXR poses to view matrices, fov tangents to projections, eyes on a head."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from ixstream.pose import EyeView, Pose
from streamer.render import camera

F32 = npt.NDArray[np.float32]


def yaw(degrees: float) -> tuple[float, float, float, float]:
    """A rotation about +y (turning left for positive angles), as an (x, y, z, w) quaternion."""
    half = math.radians(degrees) / 2
    return (0.0, math.sin(half), 0.0, math.cos(half))


def to_view(view: F32, point: tuple[float, float, float]) -> F32:
    moved: F32 = view @ np.array([*point, 1.0], dtype=np.float32)
    return moved[:3]


def to_ndc(projection: F32, point: tuple[float, float, float]) -> F32:
    clip: F32 = projection @ np.array([*point, 1.0], dtype=np.float32)
    ndc: F32 = clip[:3] / clip[3]
    return ndc


def test_the_identity_pose_only_moves_the_world_by_the_head_position() -> None:
    view = camera.view_matrix(Pose(position=(1.0, 1.6, -2.0)))

    expected = np.eye(4, dtype=np.float32)
    expected[:3, 3] = (-1.0, -1.6, 2.0)
    np.testing.assert_allclose(view, expected, atol=1e-6)
    assert view.dtype == np.float32


def test_after_a_90_degree_left_turn_what_was_on_the_left_is_straight_ahead() -> None:
    view = camera.view_matrix(Pose(position=(0.0, 1.6, 0.0), orientation=yaw(90.0)))

    np.testing.assert_allclose(to_view(view, (-5.0, 1.6, 0.0)), (0.0, 0.0, -5.0), atol=1e-5)
    np.testing.assert_allclose(to_view(view, (0.0, 1.6, -5.0)), (5.0, 0.0, 0.0), atol=1e-5)


def test_the_view_matrix_inverts_the_pose_matrix() -> None:
    pose = Pose(position=(0.3, 1.7, -0.4), orientation=(0.1, 0.7, -0.2, 0.68))

    product = camera.view_matrix(pose) @ camera.pose_matrix(pose)

    np.testing.assert_allclose(product, np.eye(4), atol=1e-5)


def test_an_unnormalised_quaternion_rotates_without_scaling() -> None:
    rotation = camera.rotation_matrix((0.0, 2.0, 0.0, 2.0))

    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-6)
    np.testing.assert_allclose(rotation @ np.array([0.0, 0.0, -1.0]), (-1.0, 0.0, 0.0), atol=1e-6)


def test_a_zero_quaternion_is_refused() -> None:
    with pytest.raises(ValueError, match="zero length"):
        camera.rotation_matrix((0.0, 0.0, 0.0, 0.0))


def test_an_asymmetric_frustum_puts_each_edge_at_the_edge_of_the_screen() -> None:
    up, down, left, right = 1.0, 0.8, 1.2, 0.7
    projection = camera.perspective_from_fov((up, down, left, right), near=0.1, far=100.0)
    depth = 3.0

    assert to_ndc(projection, (-left * depth, 0.0, -depth))[0] == pytest.approx(-1.0)
    assert to_ndc(projection, (right * depth, 0.0, -depth))[0] == pytest.approx(1.0)
    assert to_ndc(projection, (0.0, up * depth, -depth))[1] == pytest.approx(1.0)
    assert to_ndc(projection, (0.0, -down * depth, -depth))[1] == pytest.approx(-1.0)


def test_the_near_and_far_planes_map_to_the_ends_of_the_depth_range() -> None:
    projection = camera.perspective_from_fov((1.0, 1.0, 1.0, 1.0), near=0.1, far=100.0)

    assert to_ndc(projection, (0.0, 0.0, -0.1))[2] == pytest.approx(-1.0, abs=1e-5)
    assert to_ndc(projection, (0.0, 0.0, -100.0))[2] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(
    ("fov", "near", "far"),
    [((1.0, -1.0, 1.0, 1.0), 0.1, 10.0), ((1.0, 1.0, 1.0, 1.0), 0.0, 10.0), ((1, 1, 1, 1), 5, 1)],
)
def test_degenerate_frustums_are_refused(
    fov: tuple[float, float, float, float], near: float, far: float
) -> None:
    with pytest.raises(ValueError, match=r"degenerate|near < far"):
        camera.perspective_from_fov(fov, near=near, far=far)


def test_a_symmetric_fov_widens_horizontally_by_the_aspect_ratio() -> None:
    up, down, left, right = camera.symmetric_fov(90.0, 16 / 9)

    assert up == pytest.approx(1.0)
    assert down == pytest.approx(1.0)
    assert left == pytest.approx(16 / 9)
    assert right == pytest.approx(16 / 9)


def test_an_eye_offset_turns_with_the_head() -> None:
    head = Pose(position=(0.0, 1.6, 0.0), orientation=yaw(90.0))
    right_eye = EyeView(offset=(0.032, 0.0, 0.0), fov=(1.0, 1.0, 1.0, 1.0))

    eye = camera.eye_pose(head, right_eye)

    np.testing.assert_allclose(eye.position, (0.0, 1.6, -0.032), atol=1e-6)
    assert eye.orientation == head.orientation


def test_matrices_reach_glsl_in_column_major_order() -> None:
    view = camera.view_matrix(Pose(position=(1.0, 2.0, 3.0)))

    floats = np.frombuffer(camera.gl_bytes(view), dtype=np.float32)

    np.testing.assert_allclose(floats[12:15], (-1.0, -2.0, -3.0))
