"""Chooses and builds the FrameSource a streamer runs with."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import structlog

from streamer.render.egl import create_headless_gl
from streamer.render.gltf import load_scene
from streamer.render.scene import SceneRenderer
from streamer.render.source import FrameSource
from streamer.render.testpattern import TestPattern

log = structlog.get_logger(__name__)

FrameSourceKind = Literal["scene", "test-pattern"]
SAMPLE_SCENE = "street_corner.glb"


def default_scene_path() -> Path:
    """The sample training scene shipped inside the package (scripts/make_scene.py builds it)."""
    return Path(str(resources.files("streamer.assets").joinpath(SAMPLE_SCENE)))


def resolve_scene_path(path: Path | None) -> Path:
    """The scene file to load: `path` as given when it exists; a bare file name that does
    not exist here is looked up among the scenes shipped in the package.

    So an orchestrator without a scenes folder of its own can name a scenario's scene
    (`warehouse.glb`) and any streamer, a local process or a pod, finds its copy.
    """
    if path is None:
        return default_scene_path()
    if path.exists() or path.parent != Path():
        return path
    shipped = Path(str(resources.files("streamer.assets").joinpath(path.name)))
    return shipped if shipped.is_file() else path


def create_frame_source(
    kind: FrameSourceKind,
    width: int,
    height: int,
    stereo: bool = False,
    scene_path: Path | None = None,
    dynamic_nodes: Sequence[str] = (),
    dynamic_lights: Sequence[str] = (),
) -> FrameSource:
    """Builds a frame source. Call it on the thread that will render: a scene owns a GL context.

    The scene file is read before any GL context exists, so a bad path fails
    fast and leaves nothing to clean up. `dynamic_nodes` / `dynamic_lights`
    are the nodes a scenario may hide, move or switch (SceneRenderer); the
    test pattern has no scene and ignores them, and any RenderRequest.state.
    """
    if kind == "test-pattern":
        return TestPattern(width, height, stereo=stereo)
    if kind != "scene":
        raise ValueError(f"unknown frame source {kind!r}: expected 'scene' or 'test-pattern'")
    path = resolve_scene_path(scene_path)
    scene = load_scene(path)
    gl = create_headless_gl()
    try:
        renderer = SceneRenderer(
            gl,
            scene,
            width,
            height,
            stereo=stereo,
            dynamic_nodes=dynamic_nodes,
            dynamic_lights=dynamic_lights,
        )
    except Exception:
        gl.ctx.release()
        raise
    log.info(
        "frame_source_created",
        kind=kind,
        scene=str(path),
        triangles=scene.triangle_count,
        renderer=gl.renderer,
        hardware=gl.is_hardware,
        size=f"{width}x{height}",
        stereo=stereo,
        dynamic_nodes=len(dynamic_nodes),
        dynamic_lights=len(dynamic_lights),
        conversion=renderer.conversion,
        conversion_reason="shader packing on the GPU"
        if renderer.conversion == "gpu"
        else "swscale: a software renderer shares the CPU, where SIMD conversion is cheaper",
    )
    return renderer
