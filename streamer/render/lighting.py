"""Scene lighting, baked per vertex when a renderer is built (pure numpy, no GL).

Engines bake lightmaps for static lights; we bake per vertex: ambient,
moonlight and every steady point light are summed once. The police strobes
keep a per-vertex factor the vertex shader scales each frame. On llvmpipe this
is what keeps the shaders cheap: a point-light loop in the fragment shader
measured ~40 ms at 720p, the baked scene a few. Surfaces that should show pools
of lamplight need vertices a few metres apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from streamer.render.gltf import SceneGeometry

Colour = tuple[float, float, float]
F32 = npt.NDArray[np.float32]

BULB_SUFFIX = "_bulb"  # mesh nodes that cast light (scripts/make_scene.py names them)
STROBE_NODES = ("light_bar_red", "light_bar_blue")  # animated, in alternating phases


@dataclass(frozen=True, slots=True)
class Look:
    """Lighting and atmosphere; radiometric values are linear, `sky` is display-encoded.

    The defaults are a clear night: a faint moon, street lamps doing the work.
    """

    sky: Colour = (0.035, 0.045, 0.085)  # clear colour, and what fog fades to
    fog_density_per_m: float = 0.012
    moon_direction: Colour = (0.45, 0.75, 0.35)  # towards the moon
    moon_colour: Colour = (0.05, 0.06, 0.1)
    ambient_sky: Colour = (0.03, 0.035, 0.06)
    ambient_ground: Colour = (0.01, 0.01, 0.012)
    bulb_intensity: float = 16.0  # light at 1 m, in multiples of the bulb's emissive colour
    bulb_range_m: float = 22.0
    strobe_intensity: float = 6.0
    strobe_range_m: float = 14.0
    strobe_period_s: float = 0.8
    mono_fov_y_deg: float = 60.0
    smoke: Colour = (0.34, 0.34, 0.35)  # what fog fades to at scenario fog density 1
    smoke_density_per_m: float = 0.9  # added at scenario fog 1: 6.5% contrast left at 3 m


@dataclass(frozen=True, slots=True)
class PointLight:
    position: Colour
    colour: Colour
    range_m: float
    strobe: int  # 0: steady; k: follows strobe k (1-based), as its lens does
    node: str = ""  # the mesh node it stands for, so a scenario can switch it


def strobe_gains(time_s: float, period_s: float) -> tuple[float, float]:
    """Emergency-light pattern: red double-flashes in the first half period, blue in the second.

    Off is not black: an unlit lens still shows its colour dimly.
    """
    phase = (time_s % period_s) / period_s
    half, within = divmod(phase * 2.0, 1.0)
    lit = within < 0.18 or 0.32 <= within < 0.5
    on, off = 1.0, 0.08
    return (on if lit and half == 0 else off, on if lit and half == 1 else off)


def scene_lights(scene: SceneGeometry, look: Look) -> list[PointLight]:
    """Point lights at the scene's `*_bulb` and strobe nodes, coloured by their emission."""
    lights: list[PointLight] = []
    for index, name in enumerate(scene.node_names):
        strobe = STROBE_NODES.index(name) + 1 if name in STROBE_NODES else 0
        if not name.endswith(BULB_SUFFIX) and not strobe:
            continue
        emissive = scene.emissive[scene.vertex_node == index].mean(axis=0)
        low, high = scene.node_bounds[name]
        lift = 0.25 if strobe else 0.0  # above the roof, so the roof itself is lit
        centre = (low + high) / 2 + np.array([0.0, lift, 0.0], dtype=np.float32)
        intensity = look.strobe_intensity if strobe else look.bulb_intensity
        lights.append(
            PointLight(
                position=_vec3(centre),
                colour=_vec3(emissive * intensity),
                range_m=look.strobe_range_m if strobe else look.bulb_range_m,
                strobe=strobe,
                node=name,
            )
        )
    return lights


def _vec3(v: npt.NDArray[Any]) -> Colour:
    return (float(v[0]), float(v[1]), float(v[2]))


def point_light_factor(positions: F32, normals: F32, light: PointLight) -> F32:
    """Lambert times inverse-square falloff, windowed to reach zero at the light's range."""
    to_light = np.asarray(light.position, dtype=np.float32) - positions
    d2 = np.einsum("ij,ij->i", to_light, to_light)
    d = np.sqrt(d2)
    lambert = np.maximum(np.einsum("ij,ij->i", normals, to_light) / np.maximum(d, 1e-6), 0.0)
    window = np.clip(1.0 - d2 / light.range_m**2, 0.0, 1.0) ** 2
    factor: F32 = (lambert * window / np.maximum(d2, 0.25)).astype(np.float32)
    return factor


def bake_lighting(
    scene: SceneGeometry,
    lights: list[PointLight],
    look: Look,
    channels: Sequence[int] | None = None,
    channel_count: int = len(STROBE_NODES),
) -> tuple[F32, F32]:
    """(steady light per vertex, switchable light factors per vertex (n, channel_count)).

    Steady light is irradiance from the sky, the moon and steady lamps; the
    renderer multiplies it by the base colour. Normals are flat per triangle,
    so directional terms are exact; point lights are interpolated.
    `channels[i]` says where light i goes: 0 into the steady sum, k into
    column k-1, which the renderer scales by a colour and gain every frame.
    By default the strobes take channels 1 and 2 and every other lamp is steady.
    """
    n = scene.normals
    up = (n[:, 1:2] * 0.5 + 0.5).astype(np.float32)
    light = np.asarray(look.ambient_ground) * (1 - up) + np.asarray(look.ambient_sky) * up
    moon = np.asarray(look.moon_direction, dtype=np.float32)
    moon /= np.linalg.norm(moon)
    light += np.maximum(n @ moon, 0.0)[:, None] * np.asarray(look.moon_colour)
    switchable = np.zeros((len(n), channel_count), dtype=np.float32)
    chosen = [lamp.strobe for lamp in lights] if channels is None else channels
    for lamp, channel in zip(lights, chosen, strict=True):
        factor = point_light_factor(scene.positions, n, lamp)
        if channel:
            switchable[:, channel - 1] += factor
        else:
            light += factor[:, None] * np.asarray(lamp.colour)
    return light.astype(np.float32), switchable
