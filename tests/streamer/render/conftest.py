"""Fixtures for the render tests: the sample scene and tiny scenes built for one purpose."""

# trimesh ships py.typed but leaves constructors unannotated
# mypy: allow-untyped-calls

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from trimesh.visual import TextureVisuals
from trimesh.visual.material import PBRMaterial

from streamer.render.factory import default_scene_path
from streamer.render.gltf import SceneGeometry, load_scene

FLOOR_EMISSIVE = (0.2, 0.5, 0.3)  # linear; the floor is unlit, so this is exactly its colour


@pytest.fixture(scope="session")
def floor_emissive() -> tuple[float, float, float]:
    """The floor scene's colour, linear: unlit, so exactly what it shows before encoding."""
    return FLOOR_EMISSIVE


@pytest.fixture(scope="session")
def sample_scene() -> SceneGeometry:
    return load_scene(default_scene_path())


def emissive_quad(size: float, emissive: tuple[float, float, float]) -> trimesh.Trimesh:
    """A square in the xz plane facing up, black but glowing: its colour ignores lighting."""
    h = size / 2
    quad = trimesh.Trimesh(
        vertices=[(-h, 0.0, h), (h, 0.0, h), (h, 0.0, -h), (-h, 0.0, -h)],
        faces=[(0, 1, 2), (0, 2, 3)],
        process=False,
    )
    quad.visual = TextureVisuals(
        material=PBRMaterial(baseColorFactor=[0.0, 0.0, 0.0, 1.0], emissiveFactor=list(emissive))
    )
    return quad


@pytest.fixture(scope="session")
def floor_scene_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flat glowing floor reaching 400 m ahead: the lower half of the view, sky above it."""
    scene = trimesh.Scene()
    scene.add_geometry(emissive_quad(800.0, FLOOR_EMISSIVE), node_name="floor", transform=np.eye(4))
    path = tmp_path_factory.mktemp("scenes") / "floor.glb"
    path.write_bytes(scene.export(file_type="glb"))
    return path
