"""Mesh helpers shared by the scene generators (make_scene.py, make_warehouse.py).

Plain functions over trimesh and numpy, so every generated .glb is the same bytes
on every run (the tests in tests/scripts compare the shipped assets with a fresh
build). The generators import this as a sibling module: running a script puts
its folder on sys.path.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import trimesh
from trimesh.visual import TextureVisuals
from trimesh.visual.material import PBRMaterial

Matrix = npt.NDArray[np.float64]
Colour = tuple[float, float, float]


def translation(x: float, y: float, z: float) -> Matrix:
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def slab(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> trimesh.Trimesh:
    """An axis-aligned box given by its extents, the natural way to lay out a floor plan."""
    mesh: trimesh.Trimesh = trimesh.creation.box(
        extents=(x1 - x0, y1 - y0, z1 - z0),
        transform=translation((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2),
    )
    return mesh


def merge(meshes: list[trimesh.Trimesh]) -> trimesh.Trimesh:
    """Concatenates plain meshes (trimesh's own concatenate wants scipy for visuals)."""
    vertices, faces, offset = [], [], 0
    for mesh in meshes:
        vertices.append(np.asarray(mesh.vertices))
        faces.append(np.asarray(mesh.faces) + offset)
        offset += len(mesh.vertices)
    return trimesh.Trimesh(vertices=np.vstack(vertices), faces=np.vstack(faces), process=False)


def with_material(
    mesh: trimesh.Trimesh, name: str, base: Colour, emissive: Colour
) -> trimesh.Trimesh:
    """A glTF metallic-roughness material: matte, non-metal, optionally glowing."""
    mesh.visual = TextureVisuals(
        material=PBRMaterial(
            name=name,
            baseColorFactor=[*base, 1.0],
            emissiveFactor=list(emissive),
            metallicFactor=0.0,
            roughnessFactor=0.8,
        )
    )
    return mesh
