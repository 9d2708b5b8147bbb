"""Streaming benchmark: a real streamer process and the headless client on loopback.

Reports, per codec at 720p60: motion-to-photon and glass-to-glass p50/p95, fps,
and the server's render/convert/encode ms per frame, next to the DESIGN §5
targets. The client's receive path has aiortc's one-frame jitter-buffer delay
removed (ixclient.receive_hook), as a browser would; the stock-aiortc figure
is measured in the same run as the baseline for that choice.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from ixclient.viewer import ViewerClient
from tests.conftest import start_streamer

TARGETS = {
    "motion_to_photon_p50_ms": 20,
    "motion_to_photon_p95_ms": 30,
    "glass_to_glass_p50_ms": 12,
}
WARMUP_S = 1.5


async def watch(
    url: str, token: str, codec: str, seconds: float, marker_release: bool = True
) -> dict[str, Any]:
    async with ViewerClient(url, token=token, codec=codec, marker_release=marker_release) as viewer:
        await viewer.wait_for_frame(timeout_s=30)
        await asyncio.sleep(WARMUP_S)
        viewer.measure = type(viewer.measure)()  # measure steady state only
        return await viewer.run(seconds)


def run_codec(
    codec: str, seconds: float = 8.0, width: int = 1280, height: int = 720, fps: int = 60
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        streamer = start_streamer(
            Path(tmp),
            "--codec",
            codec,
            "--width",
            str(width),
            "--height",
            str(height),
            "--fps",
            str(fps),
        )
        try:
            ours = asyncio.run(watch(streamer.whep_url, streamer.token(), codec, seconds))
            stock = asyncio.run(
                watch(streamer.whep_url, streamer.token(), codec, seconds / 2, marker_release=False)
            )
        finally:
            streamer.stop()
    m2p, g2g = ours["motion_to_photon_ms"], ours["glass_to_glass_ms"]
    return {
        "resolution": f"{width}x{height}",
        "target_fps": fps,
        **ours,
        "meets_targets": {
            "motion_to_photon_p50": _le(m2p["p50"], TARGETS["motion_to_photon_p50_ms"]),
            "motion_to_photon_p95": _le(m2p["p95"], TARGETS["motion_to_photon_p95_ms"]),
            "glass_to_glass_p50": _le(g2g["p50"], TARGETS["glass_to_glass_p50_ms"]),
        },
        "baseline_stock_aiortc_receiver": {
            "motion_to_photon_ms": stock["motion_to_photon_ms"],
            "glass_to_glass_ms": stock["glass_to_glass_ms"],
            "fps": stock["fps"],
        },
    }


def _le(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


def run() -> dict[str, Any]:
    return {"targets": TARGETS, "h264": run_codec("h264"), "vp8": run_codec("vp8")}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
