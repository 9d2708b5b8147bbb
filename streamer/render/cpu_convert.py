"""RGBA → I420 on the CPU with swscale, for software renderers.

Where the "GPU" is llvmpipe, the shader packing passes run on the same CPU
cores as everything else, and swscale's SIMD code is faster: measured at 720p,
RGBA readback 0.3 ms + swscale 2.0 ms against 4-7 ms for the packing passes.
On a real GPU the shader path wins (a third of the bytes cross PCIe and the
CPU does nothing), so the renderer picks per device (scene.py).

The RGBA buffer is wrapped once (`from_numpy_buffer`, no copy) and one
reformatter is reused, so a frame costs the conversion and one plane copy
into the caller's ring buffer. Rows must arrive top-down: the renderer flips
Y in the projection for this path (FIELD-NOTES trap 10).
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

U8 = npt.NDArray[np.uint8]


class CpuI420:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.rgba: U8 = np.empty((height, width, 4), dtype=np.uint8)
        self._frame = av.VideoFrame.from_numpy_buffer(self.rgba, format="rgba")
        self._reformatter = VideoReformatter()

    def convert(self, out: U8) -> None:
        """Converts `self.rgba` (filled by the caller) into `out`, shape (h*3/2, w)."""
        yuv = self._reformatter.reformat(
            self._frame,
            format="yuv420p",
            dst_colorspace=Colorspace.ITU709,  # what the encoder's VUI declares
            src_color_range=ColorRange.JPEG,  # rendered RGB is full range
            dst_color_range=ColorRange.MPEG,  # limited range, as browsers expect
        )
        w, h = self.width, self.height
        flat = out.reshape(-1)
        flat[: w * h].reshape(h, w)[:] = _plane(yuv.planes[0], w, h)
        quarter = (w // 2) * (h // 2)
        flat[w * h : w * h + quarter].reshape(h // 2, w // 2)[:] = _plane(
            yuv.planes[1], w // 2, h // 2
        )
        flat[w * h + quarter :].reshape(h // 2, w // 2)[:] = _plane(yuv.planes[2], w // 2, h // 2)


def _plane(plane: Any, width: int, height: int) -> U8:
    """A plane's pixels as a (height, width) view, skipping any row padding."""
    rows: U8 = np.frombuffer(plane, dtype=np.uint8).reshape(height, plane.line_size)
    return rows[:, :width]
