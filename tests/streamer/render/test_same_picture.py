"""`same_picture` (issue 12): when the pipeline may show the last frame instead of rendering.

The renderer's answer must agree with its pixels: where it says "same", a render
gives identical bytes; the strobes make scene time matter in the sample scene,
and nothing else does.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ixstream.pose import Pose
from streamer.render.egl import create_headless_gl
from streamer.render.factory import resolve_scene_path
from streamer.render.gltf import SceneGeometry, load_scene
from streamer.render.lighting import Look
from streamer.render.scene import SceneRenderer
from streamer.render.source import RenderRequest, SceneState

W, H = 160, 96


def turned(yaw: float) -> Pose:
    return Pose(orientation=(0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)))


def render_bytes(renderer: SceneRenderer, request: RenderRequest) -> bytes:
    return renderer.render(request).i420.tobytes()


def test_a_scene_without_strobes_is_the_same_picture_at_any_time() -> None:
    scene = load_scene(resolve_scene_path(Path("warehouse.glb")))
    renderer = SceneRenderer(create_headless_gl(), scene, W, H)
    try:
        a = RenderRequest(1, 0.0, turned(0.1))
        b = RenderRequest(2, 7.3, turned(0.1))
        assert renderer.same_picture(a, b)
        assert render_bytes(renderer, a) == render_bytes(renderer, b)
        assert not renderer.same_picture(a, RenderRequest(3, 0.0, turned(0.2)))
        fogged = RenderRequest(4, 0.0, turned(0.1), state=SceneState(fog_density=0.5))
        assert not renderer.same_picture(a, fogged)
    finally:
        renderer.close()


def test_strobes_make_scene_time_matter(sample_scene: SceneGeometry) -> None:
    renderer = SceneRenderer(create_headless_gl(), sample_scene, W, H)
    period = Look().strobe_period_s
    try:
        lit = RenderRequest(1, 0.0, turned(0.0))
        same_phase = RenderRequest(2, period, turned(0.0))
        dark_phase = RenderRequest(3, period * 0.3, turned(0.0))
        assert renderer.same_picture(lit, same_phase)
        assert not renderer.same_picture(lit, dark_phase)
        assert np.array_equal(renderer.render(lit).i420, renderer.render(same_phase).i420)
    finally:
        renderer.close()
