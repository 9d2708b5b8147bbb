"""Benchmark: scene render and GPU RGB->I420 conversion, against the naive CPU conversion.

Measures the SceneRenderer on the sample scene at `width` x `height` mono and
at twice that in each direction as side-by-side stereo (2560x1440 by default,
each eye 1280x1440). The baseline runs in the same process on the same
frames: read RGBA back, then `av.VideoFrame.from_ndarray(...).reformat(
format="yuv420p")`, the obvious CPU path. `scene_state` prices a running
scenario: the traffic-stop scenario's dynamic nodes and lights, driven by a
changing SceneState every frame, against the plain baked scene.

Usage: python -m bench.render [--width W --height H --frames N]  (prints JSON)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import av
import numpy as np
import structlog

from ixstream.pose import Pose
from streamer.render.egl import create_headless_gl
from streamer.render.factory import default_scene_path
from streamer.render.gltf import SceneGeometry, load_scene
from streamer.render.scene import SceneRenderer
from streamer.render.source import RenderRequest, SceneState

WARMUP_FRAMES = 5
# scenarios/traffic-stop-night.yaml's object nodes and lights
DYNAMIC_NODES = ("police_car", "light_bar_red", "light_bar_blue", "civilian_car", "crosswalk")
DYNAMIC_LIGHTS = ("light_bar_red", "light_bar_blue", "streetlamp_3")


def run(width: int = 1280, height: int = 720, frames: int = 120) -> dict[str, Any]:
    """Runs both configurations and returns their timings in milliseconds."""
    scene = load_scene(default_scene_path())
    mono = _measure(scene, width, height, stereo=False, frames=frames)
    stereo = _measure(scene, width * 2, height * 2, stereo=True, frames=frames)
    plain_ms = _render_ms(scene, width, height, frames, dynamic=False)
    state_ms = _render_ms(scene, width, height, frames, dynamic=True)
    return {
        "scene": default_scene_path().name,
        "triangles": scene.triangle_count,
        "frames": frames,
        "renderer": mono.pop("renderer"),
        "is_hardware": mono.pop("is_hardware"),
        f"mono_{width}x{height}": mono,
        f"stereo_{width * 2}x{height * 2}": {
            k: v for k, v in stereo.items() if k not in ("renderer", "is_hardware")
        },
        f"scene_state_{width}x{height}": {
            "plain_render_ms": _percentiles(plain_ms),
            "with_state_render_ms": _percentiles(state_ms),
            "ratio": round(float(np.median(state_ms) / np.median(plain_ms)), 3),
        },
    }


def _render_ms(
    scene: SceneGeometry, width: int, height: int, frames: int, *, dynamic: bool
) -> list[float]:
    """Render times of the plain scene, or of the scenario's dynamic scene under a state."""
    renderer = SceneRenderer(
        create_headless_gl(),
        scene,
        width,
        height,
        dynamic_nodes=DYNAMIC_NODES if dynamic else (),
        dynamic_lights=DYNAMIC_LIGHTS if dynamic else (),
    )
    try:
        render_ms = []
        for i in range(WARMUP_FRAMES + frames):
            request = _request(i)
            if dynamic:
                request = RenderRequest(i, request.scene_time_s, request.head, state=_state(i))
            frame = renderer.render(request)
            if i >= WARMUP_FRAMES:
                render_ms.append(frame.render_s * 1e3)
    finally:
        renderer.close()
    return render_ms


def _state(i: int) -> SceneState:
    """The stopped car rolling, the bars flashing, the lamp dimming, smoke rising."""
    flash = 1.0 if i % 20 < 10 else 0.0
    return SceneState(
        offsets={"civilian_car": (0.0, 0.0, -0.02 * i)},
        light_gains={"light_bar_red": flash, "light_bar_blue": 1.0 - flash, "streetlamp_3": 0.5},
        fog_density=min(i / 400.0, 0.3),
    )


def _measure(
    scene: SceneGeometry, width: int, height: int, *, stereo: bool, frames: int
) -> dict[str, Any]:
    gl = create_headless_gl()
    renderer = SceneRenderer(gl, scene, width, height, stereo=stereo)
    try:
        render_ms, convert_ms, naive_ms = [], [], []
        rgba = np.empty((height, width, 4), dtype=np.uint8)
        for i in range(WARMUP_FRAMES + frames):
            frame = renderer.render(_request(i))
            started = time.perf_counter()
            renderer.read_rgba(rgba)
            av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format="yuv420p")
            naive = time.perf_counter() - started
            if i >= WARMUP_FRAMES:
                render_ms.append(frame.render_s * 1e3)
                convert_ms.append(frame.convert_s * 1e3)
                naive_ms.append(naive * 1e3)
    finally:
        renderer.close()
    return {
        "renderer": gl.renderer,
        "is_hardware": gl.is_hardware,
        "render_ms": _percentiles(render_ms),
        "convert_ms": _percentiles(convert_ms),
        "naive_cpu_convert_ms": _percentiles(naive_ms),
        "gpu_convert_speedup": round(float(np.median(naive_ms) / np.median(convert_ms)), 2),
    }


def _request(i: int) -> RenderRequest:
    """A slow look around, so every frame differs as it would in a session."""
    yaw = math.radians(20.0 * math.sin(i / 30.0))
    pose = Pose(orientation=(0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)))
    return RenderRequest(frame_id=i, scene_time_s=i / 60.0, head=pose)


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    p50, p95 = np.percentile(samples_ms, [50, 95])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description="SceneRenderer benchmark (JSON on stdout)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    # keep stdout for the JSON: logs (e.g. the llvmpipe fallback warning) go to stderr
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    print(json.dumps(run(args.width, args.height, args.frames), indent=2))


if __name__ == "__main__":
    main()
