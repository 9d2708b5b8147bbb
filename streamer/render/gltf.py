"""Loads glTF 2.0 training content into flat, world-space arrays ready for one vertex buffer.

Training scenes are small (tens of thousands of triangles) and mostly static,
so the whole scene is baked into world space once at load time: one buffer and
one draw call per eye, which is what a CPU rasteriser (llvmpipe) likes best.
Shading inputs come from the glTF metallic-roughness material factors
(baseColorFactor, emissiveFactor) times COLOR_0; textures are not sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh

F32 = npt.NDArray[np.float32]
Bounds = tuple[F32, F32]


class SceneLoadError(Exception):
    """The scene file is missing, unreadable, or holds no triangles."""


@dataclass(frozen=True, slots=True)
class SceneGeometry:
    """Non-indexed triangles (three vertices each), baked into world space.

    `vertex_node` indexes `node_names` with the glTF node each vertex came
    from, so a renderer can animate or highlight named parts (a light bar, a
    casualty) without a draw call per node. `node_bounds` holds the world
    bounding box of every named node, children included. `parents` maps each
    of those nodes to its parent (roots are absent), so a change to a parent
    (hide the coworker) can reach the mesh nodes its vertices came from.
    """

    positions: F32  # (n, 3)
    normals: F32  # (n, 3), unit length
    base_colour: F32  # (n, 3), linear RGB
    emissive: F32  # (n, 3), linear RGB
    vertex_node: npt.NDArray[np.uint16]  # (n,)
    node_names: tuple[str, ...]
    node_bounds: dict[str, Bounds]
    parents: dict[str, str] = field(default_factory=dict)

    @property
    def triangle_count(self) -> int:
        return len(self.positions) // 3

    def lineage(self, node: str) -> tuple[str, ...]:
        """The node, its parent, its grandparent and so on up to a root."""
        chain = [node]
        while chain[-1] in self.parents:
            chain.append(self.parents[chain[-1]])
        return tuple(chain)


def load_scene(path: Path) -> SceneGeometry:
    """Reads a .glb / .gltf file and bakes every mesh node into world space."""
    scene = _read(path)
    baked = [b for b in (_bake_node(scene, n) for n in scene.graph.nodes_geometry) if b]
    if not baked:
        raise SceneLoadError(f"{path}: the scene has no triangle meshes")
    if len(baked) > np.iinfo(np.uint16).max:
        raise SceneLoadError(f"{path}: more than 65535 mesh nodes")
    return SceneGeometry(
        positions=np.concatenate([b.positions for b in baked]),
        normals=np.concatenate([b.normals for b in baked]),
        base_colour=np.concatenate([b.base_colour for b in baked]),
        emissive=np.concatenate([b.emissive for b in baked]),
        vertex_node=np.concatenate(
            [np.full(len(b.positions), i, dtype=np.uint16) for i, b in enumerate(baked)]
        ),
        node_names=tuple(b.node for b in baked),
        node_bounds=_node_bounds(scene, baked),
        parents=_parents(scene),
    )


def _read(path: Path) -> Any:
    if not path.is_file():
        raise SceneLoadError(f"{path}: no such scene file")
    try:
        # process=False: merging vertices would average away the flat normals.
        return trimesh.load(path, force="scene", process=False)
    except Exception as exc:  # trimesh raises anything from KeyError to struct.error
        raise SceneLoadError(f"{path}: not a readable glTF scene ({exc})") from exc


@dataclass(frozen=True, slots=True)
class _BakedNode:
    node: str
    positions: F32
    normals: F32
    base_colour: F32
    emissive: F32


def _bake_node(scene: Any, node: str) -> _BakedNode | None:
    transform, geometry_name = scene.graph[node]
    mesh = scene.geometry[geometry_name]
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        return None  # points and lines carry no surface to shade
    faces = np.asarray(mesh.faces, dtype=np.int64)
    matrix = np.asarray(transform, dtype=np.float64)
    local = np.asarray(mesh.vertices, dtype=np.float64)
    world = local @ matrix[:3, :3].T + matrix[:3, 3]
    positions = world[faces].reshape(-1, 3)
    normals = _normals(mesh, faces, positions, matrix)
    base, emissive = _material_factors(mesh)
    colours = _vertex_colours(mesh)
    base_per_vertex = base * (colours[faces].reshape(-1, 3) if colours is not None else 1.0)
    count = len(positions)
    return _BakedNode(
        node=node,
        positions=positions.astype(np.float32),
        normals=normals.astype(np.float32),
        base_colour=np.broadcast_to(base_per_vertex, (count, 3)).astype(np.float32),
        emissive=np.broadcast_to(emissive, (count, 3)).astype(np.float32),
    )


def _normals(
    mesh: Any,
    faces: npt.NDArray[np.int64],
    positions: npt.NDArray[np.float64],
    matrix: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """File normals when present, else flat normals.

    glTF 2.0 §3.7.2.1: "When normals are not specified, client implementations
    MUST calculate flat normals". trimesh would instead compute smooth ones
    (and needs scipy to do it), so its cache is checked the way its own glTF
    exporter does.
    """
    if "vertex_normals" in mesh._cache.cache:
        normal_matrix = np.linalg.inv(matrix[:3, :3]).T
        local = np.asarray(mesh.vertex_normals, dtype=np.float64)[faces].reshape(-1, 3)
        return _unit(local @ normal_matrix.T)
    tri = positions.reshape(-1, 3, 3)
    flat = _unit(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]))
    return np.repeat(flat, 3, axis=0)


def _unit(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    length = np.linalg.norm(v, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = np.divide(v, length, out=np.zeros_like(v), where=length > 0)
    return unit


def _material_factors(mesh: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(baseColorFactor RGB, emissiveFactor) in linear 0..1; white and black by default."""
    material = getattr(mesh.visual, "material", None)
    base = np.ones(3)
    emissive = np.zeros(3)
    if material is None:
        return base, emissive
    pbr = material.to_pbr() if hasattr(material, "to_pbr") else material
    factor = getattr(pbr, "baseColorFactor", None)
    if factor is not None:
        factor = np.asarray(factor)
        # trimesh keeps colour factors as uint8 once loaded
        base = factor[:3] / 255.0 if factor.dtype.kind in "ui" else factor[:3].astype(np.float64)
    emissive_factor = getattr(pbr, "emissiveFactor", None)
    if emissive_factor is not None:
        emissive = np.asarray(emissive_factor, dtype=np.float64)[:3]
    return base, emissive


def _vertex_colours(mesh: Any) -> npt.NDArray[np.float64] | None:
    """COLOR_0 as linear RGB 0..1, wherever trimesh put it; None when absent."""
    visual = mesh.visual
    colours = None
    if getattr(visual, "kind", None) == "vertex":
        colours = visual.vertex_colors
    elif "color" in getattr(visual, "vertex_attributes", {}):
        colours = visual.vertex_attributes["color"]
    if colours is None or len(colours) != len(mesh.vertices):
        return None
    array = np.asarray(colours)
    scale = float(np.iinfo(array.dtype).max) if array.dtype.kind in "ui" else 1.0
    rgb: npt.NDArray[np.float64] = array[:, :3].astype(np.float64) / scale
    return rgb


def _parents(scene: Any) -> dict[str, str]:
    """Child -> parent for every node below the scene's root frame."""
    root = scene.graph.base_frame
    return {
        str(child): str(parent)
        for child, parent in scene.graph.transforms.parents.items()
        if parent != root and child != root
    }


def _node_bounds(scene: Any, baked: list[_BakedNode]) -> dict[str, Bounds]:
    """World boxes for every node, a parent's box holding all of its descendants'."""
    boxes: dict[str, Bounds] = {}
    parents: dict[str, str] = dict(scene.graph.transforms.parents)
    for part in baked:
        low, high = part.positions.min(axis=0), part.positions.max(axis=0)
        node: str | None = part.node
        while node is not None and node != scene.graph.base_frame:
            if node in boxes:
                boxes[node] = (np.minimum(boxes[node][0], low), np.maximum(boxes[node][1], high))
            else:
                boxes[node] = (low, high)
            node = parents.get(node)
    return boxes
