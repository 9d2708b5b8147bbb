"""The default bitrate ceiling of a stream, from its pixel rate.

A fixed ceiling is wrong at every size but one: 8 Mbps, once the default for
everything, is what 720p at 60 fps needs and nearly three times what the same
picture at 30 fps does. x264's cost grows with the bits it writes (entropy
coding is per bit), so an oversized ceiling is paid for in CPU on every frame
(issue 12: 720p30 on the warehouse scene, 17.1 → 15.1 ms per frame from 8 to
2.5 Mbps) and in the viewer's network, for no picture anyone can tell apart.

0.09 bit per pixel per frame gives 2.5 Mbps at 720p30, libwebrtc's own ceiling
for a camera above 960×540 (`GetMaxDefaultVideoBitrateKbps`), and grows with the
rate and size: 720p60 gets 5 Mbps, a 2560×1440 stereo headset frame at 72 fps
24 Mbps. Receivers' estimates (REMB) still move the target below the ceiling;
an operator who wants another ceiling sets it (`IXS_ORCH_BITRATE_KBPS`,
`--bitrate-kbps`).
"""

from __future__ import annotations

BITS_PER_PIXEL = 0.09
MIN_CEILING_KBPS = 1_000  # below this a 3D scene in motion is unreadable at any size
MAX_CEILING_KBPS = 50_000  # a WebRTC path rarely carries more; the streamer allows 100 Mbps


def default_bitrate_kbps(width: int, height: int, fps: int) -> int:
    """The ceiling for a `width`×`height` stream at `fps` (both eyes' width in stereo)."""
    kbps = round(width * height * fps * BITS_PER_PIXEL / 1000)
    return max(MIN_CEILING_KBPS, min(MAX_CEILING_KBPS, kbps))
