"""Helpers for the scenario runtime tests: the real scenes' bounds, head poses that look
where a test wants, and small inline scenarios set in the warehouse."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

from ixstream.pose import Pose, Vec3
from ixstream.scenario import Scenario, load_scenario
from streamer.render.gltf import load_scene
from streamer.scenario import Bounds, ScenarioRuntime

ROOT = Path(__file__).resolve().parents[3]
T0 = 1000.0  # the monotonic `now` at which tests start their scenarios


@cache
def scene_bounds(name: str) -> dict[str, Bounds]:
    """A sample scene's node boxes as plain tuples, as the contract types them."""
    geometry = load_scene(ROOT / "streamer" / "assets" / name)
    return {
        node: (
            (float(low[0]), float(low[1]), float(low[2])),
            (float(high[0]), float(high[1]), float(high[2])),
        )
        for node, (low, high) in geometry.node_bounds.items()
    }


def sample(name: str) -> Scenario:
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml")


def head(x: float, z: float, yaw_deg: float = 0.0, y: float = 1.6) -> Pose:
    """A head at (x, y, z) turned `yaw_deg` about +y (0 looks down -z, 90 down -x)."""
    half = math.radians(yaw_deg) / 2
    return Pose((x, y, z), (0.0, math.sin(half), 0.0, math.cos(half)))


def facing(position: Vec3, target: Vec3) -> Pose:
    """A head at `position` looking straight at `target` (yaw, then pitch, no roll)."""
    dx, dy, dz = (target[i] - position[i] for i in range(3))
    yaw = math.atan2(-dx, -dz)
    pitch = math.atan2(dy, math.hypot(dx, dz))
    sy, cy = math.sin(yaw / 2), math.cos(yaw / 2)
    sp, cp = math.sin(pitch / 2), math.cos(pitch / 2)
    return Pose(position, (cy * sp, sy * cp, -sy * sp, cy * cp))


def trigger(id: str, when: dict[str, Any], *then: dict[str, Any], once: bool = True) -> Any:
    return {"id": id, "when": when, "then": list(then), "once": once}


CAPTION = {"do": "caption", "text": "Hello.", "for_s": 5}
NOOP = trigger("never", {"kind": "time_elapsed", "after_s": 86400}, CAPTION)


def scenario(*triggers: dict[str, Any], **overrides: Any) -> Scenario:
    """A small warehouse scenario with a few objects, one idle actor, a path and an
    instructor event, plus the given triggers."""
    document: dict[str, Any] = {
        "format": 1,
        "id": "edge-cases",
        "title": "Edge cases",
        "domain": "other",
        "phase": "preparation",
        "objectives": ["Exercise the runtime."],
        "expected_duration_min": 1,
        "scenes": [{"id": "warehouse", "path": "warehouse.glb"}],
        "start": {"position": [0.0, 0.0, 0.0]},
        "objects": [
            {"id": "cylinder", "node": "gas_cylinder"},
            {"id": "button", "node": "alarm_button"},
            {"id": "alarm", "node": "alarm_light", "kind": "light", "lit": False},
            {"id": "door", "node": "exit_north", "kind": "door"},
        ],
        "paths": [{"id": "aisle", "points": [[-3.0, 0.0, -2.0], [0.0, 0.0, -2.0]]}],
        "actors": [{"id": "coworker", "node": "coworker"}],
        "instructor_events": [{"id": "bell", "label": "Ring the bell"}],
        "triggers": list(triggers) or [NOOP],
    }
    document.update(overrides)
    return Scenario.model_validate(document)


def started(*triggers: dict[str, Any], **overrides: Any) -> ScenarioRuntime:
    """A runtime for `scenario(...)` in the warehouse, started at T0."""
    runtime = ScenarioRuntime(scenario(*triggers, **overrides), scene_bounds("warehouse.glb"))
    runtime.start(T0)
    return runtime


def kinds(entries: list[dict[str, object]]) -> list[object]:
    """The entries' kinds, without the pose entries that interleave with everything."""
    return [e["kind"] for e in entries if e["kind"] != "pose"]


def events(entries: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in entries if e["kind"] != "pose"]
