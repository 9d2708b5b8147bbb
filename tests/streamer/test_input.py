"""Input → camera: poses, keys and mouse move the camera; stale samples never win."""

from __future__ import annotations

import math

import pytest

from ixstream.protocol import KeyEvent, MouseEvent, PoseSample, WirePose
from streamer.input import InputState, quat_axis_angle, quat_rotate


def pose(seq: int, yaw: float = 0.0, t: float = 0.0) -> PoseSample:
    q = quat_axis_angle((0.0, 1.0, 0.0), yaw)
    return PoseSample(seq=seq, t=t, head=WirePose(p=(0.0, 1.6, 0.0), q=q))


def forward(camera_q: tuple[float, float, float, float]) -> tuple[float, float, float]:
    return quat_rotate(camera_q, (0.0, 0.0, -1.0))


def test_a_head_pose_turns_the_camera() -> None:
    state = InputState()
    state.apply_pose(pose(1, yaw=math.pi / 2))
    fx, _, fz = forward(state.step(0.0).camera.orientation)
    assert fx == pytest.approx(-1.0, abs=1e-6)  # 90° left (counter-clockwise) faces -x
    assert fz == pytest.approx(0.0, abs=1e-6)


def test_a_stale_pose_is_refused_and_changes_nothing() -> None:
    state = InputState()
    assert state.apply_pose(pose(5, yaw=0.3, t=50.0))
    assert not state.apply_pose(pose(4, yaw=-1.0, t=40.0))
    applied = state.step(0.0)
    assert applied.seq == 5
    assert applied.input_t == 50.0


def test_holding_w_walks_forward_at_walking_speed() -> None:
    state = InputState()
    state.apply_event(KeyEvent(code="KeyW", down=True))
    for _ in range(10):
        state.step(0.1)
    x, y, z = state.step(0.0).camera.position
    assert z == pytest.approx(-1.6, rel=1e-6)
    assert (x, y) == pytest.approx((0.0, 1.6))
    state.apply_event(KeyEvent(code="KeyW", down=False))
    assert state.step(1.0).camera.position == pytest.approx((x, y, z))


def test_mouse_motion_turns_and_pitch_is_clamped() -> None:
    state = InputState()
    state.apply_event(MouseEvent(dx=-200, dy=0))
    fx, _, _ = forward(state.step(0.0).camera.orientation)
    assert fx < -0.4  # moved the mouse left: looking left
    state.apply_event(MouseEvent(dx=0, dy=-100_00))
    assert state.pitch == pytest.approx(math.radians(85))


def test_a_long_stall_does_not_teleport_the_trainee() -> None:
    state = InputState()
    state.apply_event(KeyEvent(code="KeyW", down=True))
    assert state.step(30.0).camera.position[2] > -0.5


def test_a_new_driver_starts_its_own_sequence_where_the_last_one_stood() -> None:
    state = InputState()
    state.apply_pose(pose(900))
    state.apply_event(KeyEvent(code="KeyW", down=True))
    state.step(1.0)
    where = state.step(0.0).camera.position
    state.new_driver()
    assert state.apply_pose(pose(1))
    assert state.step(1.0).camera.position == pytest.approx(where)


def test_release_all_lets_go_of_held_keys() -> None:
    state = InputState()
    state.apply_event(KeyEvent(code="KeyD", down=True))
    state.release_all()
    assert state.step(1.0).camera.position == pytest.approx((0.0, 1.6, 0.0))
