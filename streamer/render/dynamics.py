"""What a scenario may change at run time: slots for movable nodes, channels for switchable lights.

The renderer bakes the scene into one static vertex buffer, lighting included
(scene.py). A running scenario still hides, moves and relights a few named
nodes, declared when the renderer is built. This module plans how, so the
shaders stay at a few instructions per vertex (llvmpipe pays for every one):

- every vertex gets a *slot*: 0 for static geometry, k for the innermost
  dynamic node above its mesh node. A slot is a contiguous vertex range, so
  a hidden node is simply not drawn, and its offset is one uniform the vertex
  shader adds to the world position.
- every lens whose brightness changes (the police strobes, the dynamic
  lights) gets a *control*: a per-vertex index into an array of emission
  gains. Every lamp such a node holds (its `*_bulb` descendants, or the strobe
  itself) gets a *channel*: its light on every vertex is baked once as a
  per-vertex factor that the shader scales by a colour times gain uniform.

Per frame, `resolve` turns a SceneState into those few uniforms, walking the
hierarchy on the CPU (a change to a parent applies to its descendants):
microseconds for a few dozen slots. Pure numpy, no GL.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamer.render.gltf import SceneGeometry
from streamer.render.lighting import STROBE_NODES, PointLight, strobe_gains
from streamer.render.source import SceneState

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]

MAX_SLOTS = 32  # uniform array size; a scenario names a handful of objects and actors
MAX_LIGHT_CONTROLS = 6  # lenses with their own brightness, the strobes included
MAX_LIGHT_CHANNELS = 4  # lamps casting switchable light: one vec4 attribute per vertex
LENS_OFF = 0.08  # a switched-off lens still shows its colour dimly, as the strobes' do


@dataclass(frozen=True, slots=True)
class Dynamics:
    """The plan for one scene and one set of dynamic nodes and lights.

    Slot, control and channel numbers are 1-based; 0 means static.
    """

    vertex_slot: I32  # (n,)
    slot_nodes: tuple[str, ...]  # slot k is slot_nodes[k - 1]
    slot_chains: tuple[tuple[str, ...], ...]  # dynamic nodes at or above each slot's node
    light_nodes: tuple[str, ...]  # the dynamic lights
    vertex_control: I32  # (n,)
    control_strobe: tuple[int, ...]  # the strobe (1-based) a control follows by default, or 0
    control_lights: tuple[tuple[str, ...], ...]  # dynamic lights at or above each control
    control_chains: tuple[tuple[str, ...], ...]  # dynamic nodes at or above (hidden: dark)
    light_channel: tuple[int, ...]  # per PointLight of the scene, 0: steady
    channel_control: tuple[int, ...]  # channel k is driven by control channel_control[k - 1]
    channel_colour: F32  # (MAX_LIGHT_CHANNELS, 3), linear, at gain 1

    @property
    def slot_count(self) -> int:
        return len(self.slot_nodes)


@dataclass(frozen=True, slots=True)
class FrameDynamics:
    """Uniform values for one frame."""

    offsets: F32  # (MAX_SLOTS + 1, 3); row 0 (static) is zero
    slot_visible: npt.NDArray[np.bool_]  # (slot_count + 1,)
    glow: F32  # (MAX_LIGHT_CONTROLS + 1,); entry 0 unused (static emission is baked)
    channel_light: F32  # (MAX_LIGHT_CHANNELS, 3): colour times gain
    fog_density: float  # the scenario's 0..1


def plan(
    scene: SceneGeometry,
    lights: list[PointLight],
    dynamic_nodes: Sequence[str] = (),
    dynamic_lights: Sequence[str] = (),
) -> Dynamics:
    """Slots, controls and channels for these dynamic nodes and lights.

    ValueError for a name not in the scene, or more than the shaders hold.
    """
    nodes = _checked(scene, dynamic_nodes, "dynamic node")
    light_nodes = _checked(scene, dynamic_lights, "dynamic light")
    if len(nodes) > MAX_SLOTS:
        raise ValueError(f"{len(nodes)} dynamic nodes: the renderer holds at most {MAX_SLOTS}")
    strobes = [name for name in STROBE_NODES if name in scene.node_names]
    controls = list(dict.fromkeys([*strobes, *light_nodes]))
    if len(controls) > MAX_LIGHT_CONTROLS:
        raise ValueError(
            f"{len(controls)} switchable lights ({', '.join(controls)}): "
            f"the renderer holds at most {MAX_LIGHT_CONTROLS}"
        )
    leaf_slot = [_innermost(scene.lineage(leaf), nodes) for leaf in scene.node_names]
    leaf_control = [_innermost(scene.lineage(leaf), controls) for leaf in scene.node_names]
    light_channel, channel_control, colours = _channels(scene, lights, controls)
    return Dynamics(
        vertex_slot=np.asarray(leaf_slot, dtype=np.int32)[scene.vertex_node],
        slot_nodes=tuple(nodes),
        slot_chains=tuple(_among(scene.lineage(n), nodes) for n in nodes),
        light_nodes=tuple(light_nodes),
        vertex_control=np.asarray(leaf_control, dtype=np.int32)[scene.vertex_node],
        control_strobe=tuple(STROBE_NODES.index(c) + 1 if c in strobes else 0 for c in controls),
        control_lights=tuple(_among(scene.lineage(c), light_nodes) for c in controls),
        control_chains=tuple(_among(scene.lineage(c), nodes) for c in controls),
        light_channel=light_channel,
        channel_control=channel_control,
        channel_colour=colours,
    )


def _checked(scene: SceneGeometry, names: Sequence[str], what: str) -> list[str]:
    known = scene.node_bounds.keys()
    for name in names:
        if name not in known:
            hints = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
            hints += [n for n in sorted(known) if n not in scene.parents and n not in hints]
            raise ValueError(
                f"{what} {name!r} is not in the scene; known nodes include: {', '.join(hints[:8])}"
            )
    return list(dict.fromkeys(names))


def _innermost(lineage: tuple[str, ...], candidates: list[str]) -> int:
    """1-based index in `candidates` of the nearest node of the lineage among them, else 0."""
    for node in lineage:
        if node in candidates:
            return candidates.index(node) + 1
    return 0


def _among(lineage: tuple[str, ...], names: list[str]) -> tuple[str, ...]:
    return tuple(node for node in lineage if node in names)


def _channels(
    scene: SceneGeometry, lights: list[PointLight], controls: list[str]
) -> tuple[tuple[int, ...], tuple[int, ...], F32]:
    """A channel per (control, lamp colour): lamps of one control and colour share one."""
    keys: list[tuple[int, tuple[float, float, float]]] = []
    light_channel: list[int] = []
    for lamp in lights:
        control = _innermost(scene.lineage(lamp.node), controls)
        if not control:
            light_channel.append(0)
            continue
        key = (control, lamp.colour)
        if key not in keys:
            keys.append(key)
        light_channel.append(keys.index(key) + 1)
    if len(keys) > MAX_LIGHT_CHANNELS:
        names = sorted({controls[c - 1] for c, _ in keys})
        raise ValueError(
            f"the switchable lights ({', '.join(names)}) hold {len(keys)} lamps of distinct "
            f"colours: the renderer holds at most {MAX_LIGHT_CHANNELS}"
        )
    colours = np.zeros((MAX_LIGHT_CHANNELS, 3), dtype=np.float32)
    for k, (_, colour) in enumerate(keys):
        colours[k] = colour
    return tuple(light_channel), tuple(c for c, _ in keys), colours


def resolve(
    dynamics: Dynamics, state: SceneState | None, time_s: float, strobe_period_s: float
) -> FrameDynamics:
    """This frame's uniforms. Names a state holds beyond the planned ones are ignored."""
    state = state or SceneState()
    offsets = np.zeros((MAX_SLOTS + 1, 3), dtype=np.float32)
    visible = np.ones(dynamics.slot_count + 1, dtype=bool)
    for k, chain in enumerate(dynamics.slot_chains, start=1):
        visible[k] = not any(node in state.hidden for node in chain)
        for node in chain:
            if node in state.offsets:
                offsets[k] += np.asarray(state.offsets[node], dtype=np.float32)
    strobes = strobe_gains(time_s, strobe_period_s)
    glow = np.zeros(MAX_LIGHT_CONTROLS + 1, dtype=np.float32)
    cast = np.zeros(MAX_LIGHT_CONTROLS + 1, dtype=np.float32)
    for k in range(1, len(dynamics.control_strobe) + 1):
        glow[k], cast[k] = _control_gains(dynamics, k, state, strobes)
    channel_light = dynamics.channel_colour.copy()
    for k, control in enumerate(dynamics.channel_control):
        channel_light[k] *= cast[control]
    return FrameDynamics(
        offsets=offsets,
        slot_visible=visible,
        glow=glow,
        channel_light=channel_light,
        fog_density=min(max(float(state.fog_density), 0.0), 1.0),
    )


def _control_gains(
    dynamics: Dynamics, control: int, state: SceneState, strobes: tuple[float, float]
) -> tuple[float, float]:
    """(lens emission gain, cast light gain) of one control.

    The scenario's gain wins where it names the light (or a dynamic light
    above it); otherwise the light is as authored: a strobe follows its
    pattern, anything else is on. A lens keeps a dim glow when off.
    """
    if any(node in state.hidden for node in dynamics.control_chains[control - 1]):
        return 0.0, 0.0
    gains = [
        state.light_gains[n] for n in dynamics.control_lights[control - 1] if n in state.light_gains
    ]
    strobe = dynamics.control_strobe[control - 1]
    if not gains:
        pattern = strobes[strobe - 1] if strobe else 1.0
        return pattern, pattern
    gain = float(np.prod(np.clip(gains, 0.0, 1.0)))
    return LENS_OFF + (1.0 - LENS_OFF) * gain, gain
