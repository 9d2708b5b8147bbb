"""Scenario benchmarks: what running a scenario adds to a streamer, against what it already pays.

- `step`: one scenario step per frame (triggers, effects, actors, the pose log) for the
  gas-leak scenario, walking the trainee through its zones, against rendering one
  warehouse frame at 1280x720 (the frame the step rides along with).
- `setup`: building the renderer with the scenario's dynamic nodes (what
  `PUT /v1/scenario` costs at claim time) against building it as authored (what every
  streamer pays at start-up).
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Any

from ixstream.pose import Pose
from ixstream.scenario import load_scenario
from streamer.render.factory import create_frame_source, resolve_scene_path
from streamer.render.gltf import load_scene
from streamer.render.source import RenderRequest
from streamer.scenario import ScenarioRuntime

ROOT = Path(__file__).resolve().parent.parent
STEPS = 20_000
FRAMES = 60
BUILDS = 5


def _runtime() -> ScenarioRuntime:
    scenario = load_scenario(ROOT / "scenarios" / "gas-leak-warehouse.yaml")
    geometry = load_scene(resolve_scene_path(Path("warehouse.glb")))
    return ScenarioRuntime(scenario, geometry.node_bounds)


def _walk(i: int) -> Pose:
    """A trainee pacing a loop through the leak zone and back, turning their head."""
    angle = i / 300.0
    x, z = 2.5 * math.sin(angle), 4.5 + 4.0 * math.cos(angle)
    yaw = 0.6 * math.sin(i / 45.0)
    return Pose((x, 1.6, z), (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)))


def _step_us() -> float:
    runtime = _runtime()
    now = 1000.0
    runtime.start(now)
    started = time.perf_counter()
    for i in range(STEPS):
        now += 1 / 60
        runtime.step(now, _walk(i))
        runtime.scene_state(now)
    return (time.perf_counter() - started) / STEPS * 1e6


def _render_ms(runtime: ScenarioRuntime) -> float:
    source = create_frame_source(
        "scene",
        1280,
        720,
        scene_path=resolve_scene_path(Path("warehouse.glb")),
        dynamic_nodes=runtime.dynamic_nodes,
        dynamic_lights=runtime.dynamic_lights,
    )
    try:
        times = []
        for i in range(FRAMES):
            state = runtime.scene_state(1000.0)
            request = RenderRequest(i, i / 60, _walk(i), state=state)
            started = time.perf_counter()
            source.render(request)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000
    finally:
        source.close()


def _build_ms(dynamic: bool, runtime: ScenarioRuntime) -> float:
    times = []
    for _ in range(BUILDS):
        started = time.perf_counter()
        source = create_frame_source(
            "scene",
            1280,
            720,
            scene_path=resolve_scene_path(Path("warehouse.glb")),
            dynamic_nodes=runtime.dynamic_nodes if dynamic else (),
            dynamic_lights=runtime.dynamic_lights if dynamic else (),
        )
        source.render(RenderRequest(0, 0.0))
        times.append(time.perf_counter() - started)
        source.close()  # one renderer at a time on a thread (streamer/session_setup.py)
    return statistics.median(times) * 1000


def run() -> dict[str, Any]:
    runtime = _runtime()
    step_us = _step_us()
    render_ms = _render_ms(runtime)
    plain_ms = _build_ms(False, runtime)
    dynamic_ms = _build_ms(True, runtime)
    return {
        "step": {
            "scenario_step_us": round(step_us, 1),
            "baseline_render_ms_1280x720": round(render_ms, 2),
            "ratio_step_to_render": round(step_us / 1000 / render_ms, 4),
        },
        "setup": {
            "build_with_scenario_ms": round(dynamic_ms, 1),
            "baseline_build_as_authored_ms": round(plain_ms, 1),
            "ratio": round(dynamic_ms / plain_ms, 2),
        },
    }
