"""Choosing a frame source: the kinds, the shipped sample scene, and failures before any GL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from streamer.render.factory import create_frame_source, default_scene_path, resolve_scene_path
from streamer.render.gltf import SceneLoadError
from streamer.render.source import RenderRequest
from streamer.render.testpattern import TestPattern


def test_the_sample_scene_ships_inside_the_package() -> None:
    path = default_scene_path()

    assert path.is_file()
    assert path.suffix == ".glb"
    assert path.parent.name == "assets"


def test_a_test_pattern_source_needs_no_gl() -> None:
    source = create_frame_source("test-pattern", 320, 240)

    frame = source.render(RenderRequest(frame_id=5, scene_time_s=0.0))

    assert source.description == "test-pattern"
    assert frame.i420.shape == (360, 320)
    pattern = TestPattern(320, 240).render(RenderRequest(frame_id=5, scene_time_s=0.0))
    np.testing.assert_array_equal(frame.i420, pattern.i420)  # the pattern, not a blank


def test_a_scene_source_renders_the_sample_scene() -> None:
    source = create_frame_source("scene", 320, 240, stereo=True)
    try:
        frame = source.render(RenderRequest(frame_id=0, scene_time_s=0.0))
        assert frame.i420.shape == (360, 320)
        assert source.description != "test-pattern"
    finally:
        source.close()


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown frame source"):
        create_frame_source("raytracer", 320, 240)  # type: ignore[arg-type]


def test_a_missing_scene_fails_before_a_gl_context_exists(tmp_path: Path) -> None:
    with pytest.raises(SceneLoadError, match=r"missing\.glb"):
        create_frame_source("scene", 320, 240, scene_path=tmp_path / "missing.glb")


def test_an_unpackable_size_is_refused_for_a_scene() -> None:
    with pytest.raises(ValueError, match="divisible by 8"):
        create_frame_source("scene", 322, 240)


def test_a_bare_scene_name_finds_the_copy_shipped_in_the_package(tmp_path: Path) -> None:
    shipped = resolve_scene_path(Path("warehouse.glb"))
    assert shipped.is_file()
    assert shipped.parent == default_scene_path().parent
    assert resolve_scene_path(None) == default_scene_path()
    # A path that exists is used as given, even if the package ships one of that name.
    own = tmp_path / "warehouse.glb"
    own.write_bytes(shipped.read_bytes())
    assert resolve_scene_path(own) == own
    # Neither here nor shipped, or a path with folders: left as is, so loading it fails
    # naming the file the operator gave.
    assert resolve_scene_path(Path("harbour.glb")) == Path("harbour.glb")
    assert resolve_scene_path(Path("scenes/warehouse.glb")) == Path("scenes/warehouse.glb")
    with pytest.raises(SceneLoadError, match=r"harbour\.glb"):
        create_frame_source("scene", 64, 64, scene_path=Path("harbour.glb"))
