"""What the driving viewer's input does to the camera: a pure state machine.

Two kinds of input combine. Headsets send absolute head poses on the
unreliable `input` channel; browsers send keys and pointer-lock mouse motion
on the reliable `events` channel. The camera is the navigation origin (walk
with keys, turn with the mouse) composed with the tracked head pose, so a
headset user can also be moved by a gamepad and a desktop user never sends
poses at all.

Pose samples arrive unordered (maxRetransmits 0): one older than the newest
applied is stale and dropped, never applied over a newer one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ixstream.pose import DEFAULT_EYES, EyeView, Pose, Quat, Vec3
from ixstream.protocol import (
    AxesEvent,
    ButtonEvent,
    KeyEvent,
    MouseEvent,
    PoseSample,
    XrViewsEvent,
)

WALK_SPEED_M_S = 1.6  # a brisk walk; trainees move through rooms, not across maps
MOUSE_RAD_PER_PX = 0.0025  # ~0.14° per CSS pixel, the usual FPS default
MAX_PITCH_RAD = math.radians(85)
DEFAULT_EYE_HEIGHT_M = 1.6

_FORWARD_KEYS = {"KeyW": 1.0, "ArrowUp": 1.0, "KeyS": -1.0, "ArrowDown": -1.0}
_STRAFE_KEYS = {"KeyD": 1.0, "KeyA": -1.0}
_TURN_KEYS = {"ArrowRight": -1.0, "ArrowLeft": 1.0}
TURN_SPEED_RAD_S = math.radians(90)


def quat_mul(a: Quat, b: Quat) -> Quat:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def quat_axis_angle(axis: Vec3, angle: float) -> Quat:
    s = math.sin(angle / 2)
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


def quat_rotate(q: Quat, v: Vec3) -> Vec3:
    x, y, z, _ = quat_mul(quat_mul(q, (v[0], v[1], v[2], 0.0)), (-q[0], -q[1], -q[2], q[3]))
    return (x, y, z)


def quat_normalise(q: Quat) -> Quat:
    n = math.sqrt(sum(c * c for c in q)) or 1.0
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


@dataclass(frozen=True, slots=True)
class Applied:
    """The input a frame was rendered with: echoed to clients on the frames channel."""

    camera: Pose
    eyes: tuple[EyeView, EyeView]
    seq: int | None
    input_t: float | None


@dataclass
class InputState:
    """The driving viewer's input, advanced once per frame by the pipeline."""

    start: Vec3 = (0.0, 0.0, 0.0)
    start_yaw: float = 0.0
    position: Vec3 = field(init=False)
    yaw: float = field(init=False)
    pitch: float = 0.0
    head: Pose = field(default_factory=lambda: Pose((0.0, DEFAULT_EYE_HEIGHT_M, 0.0)))
    eyes: tuple[EyeView, EyeView] = DEFAULT_EYES
    seq: int | None = None
    input_t: float | None = None
    keys: set[str] = field(default_factory=set)
    stick: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        self.position = self.start
        self.yaw = self.start_yaw

    def apply_pose(self, sample: PoseSample) -> bool:
        """Applies a head pose; returns False (and changes nothing) for a stale sample."""
        if self.seq is not None and sample.seq <= self.seq:
            return False
        self.head = Pose(sample.head.p, quat_normalise(sample.head.q))
        self.seq = sample.seq
        self.input_t = sample.t
        return True

    def apply_event(
        self, event: KeyEvent | MouseEvent | ButtonEvent | AxesEvent | XrViewsEvent
    ) -> None:
        if isinstance(event, KeyEvent):
            if event.down:
                self.keys.add(event.code)
            else:
                self.keys.discard(event.code)
        elif isinstance(event, MouseEvent):
            self.yaw -= event.dx * MOUSE_RAD_PER_PX
            pitch = self.pitch - event.dy * MOUSE_RAD_PER_PX
            self.pitch = max(-MAX_PITCH_RAD, min(MAX_PITCH_RAD, pitch))
        elif isinstance(event, AxesEvent) and event.device in {"gamepad", "left"}:
            values = [*event.values, 0.0, 0.0]
            self.stick = (values[0], values[1])
        elif isinstance(event, XrViewsEvent):
            self.eyes = (
                EyeView(event.eyes[0].offset, event.eyes[0].fov),
                EyeView(event.eyes[1].offset, event.eyes[1].fov),
            )

    def place(self, position: Vec3, yaw: float) -> None:
        """Puts the navigation origin at a scenario's start point, facing `yaw` (radians)."""
        self.position = position
        self.yaw = yaw
        self.pitch = 0.0

    def release_all(self) -> None:
        """Called when the driver leaves: no key stays held forever."""
        self.keys.clear()
        self.stick = (0.0, 0.0)

    def new_driver(self) -> None:
        """Another viewer drives now: its sequence numbers start afresh.

        Where the trainee stands is kept, so one who reconnects after a network
        drop carries on from the same spot.
        """
        self.release_all()
        self.seq = None
        self.input_t = None

    def step(self, dt_s: float) -> Applied:
        """Integrates held keys and sticks over `dt_s` and returns the camera to render."""
        dt_s = max(0.0, min(dt_s, 0.25))  # a stalled frame must not teleport the trainee
        forward = sum(_FORWARD_KEYS.get(k, 0.0) for k in self.keys) - self.stick[1]
        strafe = sum(_STRAFE_KEYS.get(k, 0.0) for k in self.keys) + self.stick[0]
        self.yaw += sum(_TURN_KEYS.get(k, 0.0) for k in self.keys) * TURN_SPEED_RAD_S * dt_s
        if forward or strafe:
            step = WALK_SPEED_M_S * dt_s
            sin_y, cos_y = math.sin(self.yaw), math.cos(self.yaw)
            # -z is forward at yaw 0 (WebXR convention); yaw turns left (counter-clockwise).
            dx = (-sin_y * forward + cos_y * strafe) * step
            dz = (-cos_y * forward - sin_y * strafe) * step
            x, y, z = self.position
            self.position = (x + dx, y, z + dz)
        return Applied(self.camera(), self.eyes, self.seq, self.input_t)

    def camera(self) -> Pose:
        origin = quat_mul(
            quat_axis_angle((0.0, 1.0, 0.0), self.yaw),
            quat_axis_angle((1.0, 0.0, 0.0), self.pitch),
        )
        yaw_only = quat_axis_angle((0.0, 1.0, 0.0), self.yaw)
        hx, hy, hz = quat_rotate(yaw_only, self.head.position)
        x, y, z = self.position
        return Pose(
            (x + hx, y + hy, z + hz), quat_normalise(quat_mul(origin, self.head.orientation))
        )
