"""The raw pipeline, the floor a session's cost is measured against (issue 12).

Render → I420 → libx264 → discard, paced at the stream's frame rate on one
thread, with no WebRTC, no event loop and no viewer: the same `SceneRenderer`
and `PyAVEncoder` (same tuning, same threads) as the streamer, and the camera
swaying as the headless viewer sways it. What a streamer spends above this is
the cost of streaming. Run as a child process so its CPU time (getrusage, all
threads) is its own.

Usage: python -m bench.floor --seconds S [--width W --height H --fps F --scene NAME]
(prints JSON on stdout)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import structlog

from ixstream.bitrate import default_bitrate_kbps
from ixstream.pose import Pose
from streamer.cpu import process_cpu_s
from streamer.encode.base import VIDEO_CLOCK_HZ, EncoderConfig
from streamer.encode.pyav_encoder import PyAVEncoder
from streamer.render.source import FrameSource, RenderRequest

WARMUP_S = 1.5
SWAY_RAD = math.radians(20)  # as ixclient.viewer.ViewerClient looks around
SWAY_PERIOD_S = 2.0


def sway(t_s: float) -> Pose:
    """The head pose the headless viewer sends at `t_s`: ±20° of yaw every 2 s."""
    yaw = SWAY_RAD * math.sin(2 * math.pi * t_s / SWAY_PERIOD_S)
    return Pose(orientation=(0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)))


def open_source(width: int, height: int, scene: str) -> FrameSource:
    from streamer.render.factory import create_frame_source, resolve_scene_path

    return create_frame_source(
        "scene", width, height, stereo=False, scene_path=resolve_scene_path(Path(scene))
    )


def run(seconds: float, width: int, height: int, fps: int, scene: str) -> dict[str, Any]:
    source = open_source(width, height, scene)
    bitrate_bps = default_bitrate_kbps(width, height, fps) * 1000  # the streamer's ceiling
    config = EncoderConfig("h264", width, height, fps, bitrate_bps, allow_hardware=False)
    encoder = PyAVEncoder(config, "libx264")
    interval = 1.0 / fps
    started = time.monotonic()
    window: tuple[float, float, int] | None = None  # (monotonic, process CPU, frame)
    frame = 0
    stage = {"render": 0.0, "readback": 0.0, "convert": 0.0, "encode": 0.0}
    try:
        while True:
            now = time.monotonic() - started
            if window is None and now >= WARMUP_S:
                window = (time.monotonic(), process_cpu_s(), frame)
                stage = dict.fromkeys(stage, 0.0)
            if window is not None and time.monotonic() - window[0] >= seconds:
                break
            frame += 1
            cpu0 = time.thread_time()
            rendered = source.render(RenderRequest(frame, now, sway(now)))
            own = time.thread_time() - cpu0 - rendered.readback_cpu_s - rendered.convert_cpu_s
            encoded = encoder.encode(rendered.i420, round(now * VIDEO_CLOCK_HZ) + frame)
            stage["render"] += own
            stage["readback"] += rendered.readback_cpu_s
            stage["convert"] += rendered.convert_cpu_s
            stage["encode"] += encoded.encode_cpu_s
            time.sleep(max(0.0, started + frame * interval - time.monotonic()))
        assert window is not None
        wall = time.monotonic() - window[0]
        frames = frame - window[2]
        cpu = process_cpu_s() - window[1]
    finally:
        encoder.close()
        source.close()
    own = {k: round(v / max(1, frames) * 1e3, 3) for k, v in stage.items()}
    return {**cpu_figures(wall, frames, cpu), "own_thread_cpu_ms_per_frame": own}


def cpu_figures(wall_s: float, frames: int, cpu_s: float) -> dict[str, Any]:
    """A window's frames and process CPU, per stream-second and per frame (as bench.cost
    reads every case: per frame, so a case that fell short of the rate is not cheaper)."""
    return {
        "seconds": round(wall_s, 2),
        "frames": frames,
        "fps": round(frames / wall_s, 2),
        "cpu_s_per_stream_s": round(cpu_s / wall_s, 4),
        "cpu_ms_per_frame": round(cpu_s / max(1, frames) * 1e3, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="render → I420 → libx264 → discard (JSON)")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--scene", default="warehouse.glb")
    args = parser.parse_args()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    print(json.dumps(run(args.seconds, args.width, args.height, args.fps, args.scene)))


if __name__ == "__main__":
    main()
