"""Camera math for WebXR poses: view and projection matrices, pure numpy.

Conventions follow WebXR (and OpenGL): right-handed, y up, the camera looks
down -z, quaternions are (x, y, z, w). Matrices act on column vectors
(`clip = projection @ view @ point`) and are float32; `gl_bytes` transposes
them into the column-major layout GLSL expects for a `mat4` uniform.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ixstream.pose import EyeView, Pose, Quat, Vec3

Mat3 = npt.NDArray[np.float32]
Mat4 = npt.NDArray[np.float32]

DEFAULT_NEAR_M = 0.05
DEFAULT_FAR_M = 500.0


def rotation_matrix(q: Quat) -> Mat3:
    """The 3x3 rotation of a quaternion, normalised first.

    Poses arrive over an unreliable data channel as float32 from a browser;
    normalising here keeps a slightly-off quaternion from scaling the scene.
    """
    x, y, z, w = (float(c) for c in q)
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if n == 0.0:
        raise ValueError("orientation quaternion has zero length")
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=np.float32,
    )


def pose_matrix(pose: Pose) -> Mat4:
    """World-from-pose transform (what XRRigidTransform.matrix holds)."""
    m = np.eye(4, dtype=np.float32)
    m[:3, :3] = rotation_matrix(pose.orientation)
    m[:3, 3] = pose.position
    return m


def view_matrix(pose: Pose) -> Mat4:
    """Pose-from-world: the inverse of a rigid transform, without a general inverse."""
    r = rotation_matrix(pose.orientation)
    m = np.eye(4, dtype=np.float32)
    m[:3, :3] = r.T
    m[:3, 3] = -(r.T @ np.asarray(pose.position, dtype=np.float32))
    return m


def eye_pose(head: Pose, eye: EyeView) -> Pose:
    """The eye's pose in the world: its head-space offset carried by the head's rotation."""
    offset = rotation_matrix(head.orientation) @ np.asarray(eye.offset, dtype=np.float32)
    position: Vec3 = (
        head.position[0] + float(offset[0]),
        head.position[1] + float(offset[1]),
        head.position[2] + float(offset[2]),
    )
    return Pose(position=position, orientation=head.orientation)


def perspective_from_fov(
    fov: tuple[float, float, float, float],
    near: float = DEFAULT_NEAR_M,
    far: float = DEFAULT_FAR_M,
) -> Mat4:
    """An OpenGL projection (NDC z in [-1, 1]) from half-angle tangents (up, down, left, right).

    Headset eyes have asymmetric frustums (the nasal side is narrower), so the
    frustum is built from its four edges, as glFrustum does, not from one fov
    and an aspect ratio.
    """
    up, down, left, right = fov
    if up + down <= 0.0 or left + right <= 0.0:
        raise ValueError(f"degenerate field of view {fov}")
    if not 0.0 < near < far:
        raise ValueError(f"need 0 < near < far, got near={near}, far={far}")
    # glFrustum's edges are on the near plane: tangent times near distance
    x0, x1, y0, y1 = -left * near, right * near, -down * near, up * near
    m = np.zeros((4, 4), dtype=np.float32)
    m[0, 0] = 2 * near / (x1 - x0)
    m[0, 2] = (x1 + x0) / (x1 - x0)
    m[1, 1] = 2 * near / (y1 - y0)
    m[1, 2] = (y1 + y0) / (y1 - y0)
    m[2, 2] = -(far + near) / (far - near)
    m[2, 3] = -2 * far * near / (far - near)
    m[3, 2] = -1.0
    return m


def symmetric_fov(fov_y_deg: float, aspect: float) -> tuple[float, float, float, float]:
    """Half-angle tangents of a centred frustum: the mono view of a flat-screen client."""
    tan_y = math.tan(math.radians(fov_y_deg) / 2)
    return (tan_y, tan_y, tan_y * aspect, tan_y * aspect)


def gl_bytes(m: Mat4) -> bytes:
    """Column-major bytes for a GLSL mat4 uniform (GLSL reads matrices by column)."""
    return np.ascontiguousarray(m.T, dtype=np.float32).tobytes()
