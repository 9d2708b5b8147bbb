"""Poses and eyes: the values the wire protocol's `pose` and `xr_views` messages carry.

`protocol.py` holds the strict wire form (`WirePose`, `EyeParams`, validated JSON);
these are the plain values the streamer and clients compute with once a message is
parsed, and that a frame was rendered for. The scene's frame is WebXR's: right-handed,
y up, metres.
"""

from __future__ import annotations

from dataclasses import dataclass

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # x, y, z, w (WebXR order)


@dataclass(frozen=True, slots=True)
class Pose:
    """A rigid pose in the scene's right-handed, y-up, metre frame (WebXR's)."""

    position: Vec3 = (0.0, 1.6, 0.0)
    orientation: Quat = (0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class EyeView:
    """One eye as the headset reports it (XRView).

    `offset` is the eye's position relative to the head pose, in head space;
    `fov` holds the tangents of the half-angles (up, down, left, right), all
    positive, which allows the asymmetric frustums headsets use.
    """

    offset: Vec3
    fov: tuple[float, float, float, float]


#: The eyes used until a headset reports its own (and for desktop viewers, always).
DEFAULT_EYES: tuple[EyeView, EyeView] = (
    EyeView(offset=(-0.032, 0.0, 0.0), fov=(1.0, 1.0, 1.0, 0.9)),
    EyeView(offset=(0.032, 0.0, 0.0), fov=(1.0, 1.0, 0.9, 1.0)),
)
