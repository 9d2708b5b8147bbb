"""TestPattern: a FrameSource that needs no GL, for tests and for hosts without a renderer.

Each frame is a deterministic function of the request, written straight into
I420 with numpy, with three features a test can read back from a decoded
picture (allowing for codec loss):

- vertical bars that move `BAR_STEP_PX` per frame, so a frozen stream shows;
- a white block whose position follows head yaw (x) and pitch (y), so a test
  can prove that the pose a client sent reached the image;
- the frame id in binary along the top edge: `FRAME_ID_BITS` cells, most
  significant first, white for 1 and black for 0.
"""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt

from ixstream.pose import Pose
from streamer.render.camera import rotation_matrix
from streamer.render.source import RenderedFrame, RenderRequest

RING_SIZE = 3  # a frame stays valid while two more are rendered (RenderedFrame's contract)
BAR_PERIOD_PX = 64
BAR_STEP_PX = 4
FRAME_ID_BITS = 16
Y_BLACK, Y_DARK, Y_BRIGHT, Y_WHITE = 16, 60, 150, 235


def head_angles(pose: Pose) -> tuple[float, float]:
    """(yaw, pitch) in radians of the gaze direction; yaw > 0 turns left (towards -x)."""
    forward = rotation_matrix(pose.orientation) @ np.array([0.0, 0.0, -1.0], dtype=np.float32)
    yaw = math.atan2(-float(forward[0]), -float(forward[2]))
    pitch = math.asin(max(-1.0, min(1.0, float(forward[1]))))
    return yaw, pitch


def block_origin(pose: Pose, view_width: int, height: int, size: int) -> tuple[int, int]:
    """Top-left of the pose block inside one view: yaw -pi..pi spans the width, pitch the height.

    Turning left moves the block left and looking up moves it up, the way a
    head-locked marker would move.
    """
    yaw, pitch = head_angles(pose)
    x = round((0.5 - yaw / (2 * math.pi)) * (view_width - size))
    y = round((0.5 - pitch / math.pi) * (height - size))
    return x, y


class TestPattern:
    """Deterministic I420 frames from (frame_id, head pose); cheap enough for any test."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, width: int, height: int, stereo: bool = False) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"I420 needs a positive, even width and height, got {width}x{height}")
        if stereo and width % 4:
            raise ValueError(f"side-by-side stereo needs a width divisible by 4, got {width}")
        self._width = width
        self._height = height
        self._stereo = stereo
        self._ring = [np.empty((height * 3 // 2, width), dtype=np.uint8) for _ in range(RING_SIZE)]
        self._next = 0
        levels = np.where((np.arange(width + BAR_PERIOD_PX) // (BAR_PERIOD_PX // 2)) % 2, 1, 0)
        self._bar_row = np.where(levels, Y_BRIGHT, Y_DARK).astype(np.uint8)
        self._block = max(8, (height // 6) & ~1)

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def description(self) -> str:
        return "test-pattern"

    def render(self, request: RenderRequest) -> RenderedFrame:
        started = time.perf_counter()
        out = self._ring[self._next]
        self._next = (self._next + 1) % RING_SIZE
        y, u, v = self.planes(out)
        shift = (request.frame_id * BAR_STEP_PX) % BAR_PERIOD_PX
        y[:] = self._bar_row[shift : shift + self._width]
        u[:] = 128
        v[:] = 96 + (request.frame_id * 2) % 64  # a slow colour drift
        self._draw_block(y, u, v, request.head)
        self._draw_frame_id(y, request.frame_id)
        return RenderedFrame(
            i420=out,
            width=self._width,
            height=self._height,
            render_s=time.perf_counter() - started,
            convert_s=0.0,
        )

    def same_picture(self, shown: RenderRequest, request: RenderRequest) -> bool:
        """Never: the bars move and the frame id is drawn, so every frame differs."""
        return False

    def close(self) -> None:
        self._ring.clear()

    def planes(
        self, frame: npt.NDArray[np.uint8]
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
        """Views of the Y, U and V planes of an I420 frame of this size."""
        w, h = self._width, self._height
        flat = frame.reshape(-1)
        y = flat[: w * h].reshape(h, w)
        u = flat[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)
        v = flat[w * h * 5 // 4 :].reshape(h // 2, w // 2)
        return y, u, v

    def _draw_block(
        self,
        y: npt.NDArray[np.uint8],
        u: npt.NDArray[np.uint8],
        v: npt.NDArray[np.uint8],
        head: Pose,
    ) -> None:
        views = 2 if self._stereo else 1
        view_width = self._width // views
        size = self._block
        bx, by = block_origin(head, view_width, self._height, size)
        for view in range(views):
            x = view * view_width + bx
            y[by : by + size, x : x + size] = Y_WHITE
            u[by // 2 : (by + size) // 2, x // 2 : (x + size) // 2] = 128
            v[by // 2 : (by + size) // 2, x // 2 : (x + size) // 2] = 128

    def _draw_frame_id(self, y: npt.NDArray[np.uint8], frame_id: int) -> None:
        cell = max(2, min(16, self._width // FRAME_ID_BITS))
        for bit in range(FRAME_ID_BITS):
            on = (frame_id >> (FRAME_ID_BITS - 1 - bit)) & 1
            y[:cell, bit * cell : (bit + 1) * cell] = Y_WHITE if on else Y_BLACK
