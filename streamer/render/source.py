"""The FrameSource seam: something that turns a head pose into an I420 frame.

Frames leave the source already in I420 (yuv420p) layout so the colour
conversion never runs on the CPU hot path: the scene renderer does it in a
shader, the test pattern writes YUV directly. Both H.264 and VP8 encoders take
that layout as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ixstream.pose import DEFAULT_EYES, EyeView, Pose, Vec3


@dataclass(frozen=True, slots=True)
class SceneState:
    """What a running scenario changes in the scene this frame.

    Node names are glTF node names at any level of the hierarchy; a change to a
    parent applies to all its descendants. The renderer only honours nodes it
    was told about up front (`dynamic_nodes` / `dynamic_lights`), because it
    bakes everything else into static vertex data.
    """

    hidden: frozenset[str] = frozenset()
    """Nodes not drawn this frame."""
    offsets: Mapping[str, Vec3] = field(default_factory=dict)
    """Node -> translation in metres (world frame) added to its authored position."""
    light_gains: Mapping[str, float] = field(default_factory=dict)
    """Light node -> gain 0..1 on its emission and the light it casts (absent: 1)."""
    fog_density: float = 0.0
    """Scenario fog/smoke 0..1: 0 is the scene's own look, 1 hides all beyond ~3 m."""


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """Everything one frame depends on: the source must be a pure function of it."""

    frame_id: int
    scene_time_s: float
    head: Pose = field(default_factory=Pose)
    eyes: tuple[EyeView, EyeView] = DEFAULT_EYES
    state: SceneState | None = None
    """What a running scenario changed; None renders the scene as authored."""


@dataclass(frozen=True, slots=True)
class RenderedFrame:
    """An I420 frame: `i420` has shape (height * 3 // 2, width), uint8, C-contiguous.

    Rows [0, h) are Y, then U (w/2 x h/2, packed row after row), then V.
    The array belongs to the source and stays valid until two more frames
    have been rendered (the sources keep a small ring), which covers the
    render -> encode hand-over in one thread.
    """

    i420: npt.NDArray[np.uint8]
    width: int
    height: int
    render_s: float
    convert_s: float
    readback_cpu_s: float = 0.0
    """CPU time of this thread reading the frame back (streamer/cpu.py bills the rest
    of `render` itself); 0 where a source has no readback."""
    convert_cpu_s: float = 0.0
    """CPU time of this thread converting colour; 0 where the source makes YUV directly."""


class FrameSource(Protocol):
    """Produces frames for a given pose. Not thread-safe: one thread owns it."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def description(self) -> str:
        """What renders, e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)' or 'test-pattern'."""
        ...

    def render(self, request: RenderRequest) -> RenderedFrame: ...

    def same_picture(self, shown: RenderRequest, request: RenderRequest) -> bool:
        """True when rendering `request` would give exactly the picture `shown` gave.

        The pipeline then neither renders nor encodes (issue 12: a still scene must
        cost a small fraction of a moving one). False whenever unsure.
        """
        ...

    def close(self) -> None: ...
