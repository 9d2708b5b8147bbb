"""Generates the warehouse scene of the gas-leak scenario (scenarios/gas-leak-warehouse.yaml).

Like the street corner (scripts/make_scene.py), the scene ships in the repository
(`streamer/assets/warehouse.glb`) and is rebuilt by this script, deterministically, so
the content has a source anyone can read and change. Boxes and cylinders in metres, in
the glTF frame (right-handed, y up): a hall 16 m wide (x) and 24 m long (z), exits in
the middle of the north (-z) and south (+z) walls, two rows of shelving with crates,
and a gas cylinder leaking near the south exit, so the safe way out is north.

Node names are the contract with the scenario: `gas_cylinder`, `exit_north`,
`exit_south`, `alarm_light`, `alarm_button`, `coworker`, `shelving_1`..`shelving_4`.
A mesh node ending in `_bulb` is a light source for the renderer.

Usage: python scripts/make_warehouse.py [--output PATH]
"""

# trimesh ships py.typed but leaves many functions unannotated
# mypy: allow-untyped-calls

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import trimesh
from meshkit import merge, slab, translation, with_material

OUTPUT = Path(__file__).resolve().parents[1] / "streamer" / "assets" / "warehouse.glb"

Vec3 = tuple[float, float, float]
Matrix = npt.NDArray[np.float64]

HALF_X, HALF_Z, HEIGHT = 8.0, 12.0, 6.0
DOOR_HALF_WIDTH, DOOR_HEIGHT = 1.0, 2.4
WALL = 0.2
CYLINDER_AT = (2.5, 0.0, 7.0)

# name -> (baseColorFactor RGB, emissiveFactor RGB), linear
MATERIALS: dict[str, tuple[Vec3, Vec3]] = {
    "concrete": ((0.3, 0.3, 0.31), (0.0, 0.0, 0.0)),
    "wall": ((0.45, 0.45, 0.42), (0.0, 0.0, 0.0)),
    "steel_orange": ((0.6, 0.22, 0.04), (0.0, 0.0, 0.0)),
    "steel_grey": ((0.35, 0.36, 0.38), (0.0, 0.0, 0.0)),
    "cardboard": ((0.45, 0.3, 0.15), (0.0, 0.0, 0.0)),
    "cylinder_yellow": ((0.75, 0.6, 0.05), (0.0, 0.0, 0.0)),
    "door_green": ((0.05, 0.4, 0.12), (0.0, 0.0, 0.0)),
    "exit_sign": ((0.05, 0.5, 0.15), (0.1, 0.9, 0.3)),
    "alarm_red": ((0.6, 0.02, 0.02), (1.0, 0.05, 0.02)),
    "button_red": ((0.7, 0.05, 0.05), (0.0, 0.0, 0.0)),
    "lamp": ((0.9, 0.9, 0.85), (0.9, 0.88, 0.8)),
    "overalls": ((0.1, 0.15, 0.4), (0.0, 0.0, 0.0)),
    "skin": ((0.55, 0.38, 0.28), (0.0, 0.0, 0.0)),
}


def upright_cylinder(radius: float, height: float, base: Vec3) -> trimesh.Trimesh:
    orient = np.asarray(trimesh.transformations.rotation_matrix(-math.pi / 2, (1, 0, 0)))
    mesh: trimesh.Trimesh = trimesh.creation.cylinder(
        radius=radius,
        height=height,
        sections=16,
        transform=translation(base[0], base[1] + height / 2, base[2]) @ orient,
    )
    return mesh


class Builder:
    """One glTF mesh node per (name, material), under named group nodes."""

    def __init__(self) -> None:
        self.scene = trimesh.Scene()

    def group(self, name: str, at: Vec3 = (0.0, 0.0, 0.0)) -> str:
        self.scene.graph.update(frame_from="world", frame_to=name, matrix=translation(*at))
        return name

    def add(self, node: str, material: str, *meshes: trimesh.Trimesh, parent: str) -> None:
        mesh = with_material(merge(list(meshes)), material, *MATERIALS[material])
        self.scene.add_geometry(mesh, node_name=node, geom_name=node, parent_node_name=parent)


def add_hall(b: Builder) -> None:
    hall = b.group("hall")
    x, z, h, w, d = HALF_X, HALF_Z, HEIGHT, WALL, DOOR_HALF_WIDTH
    b.add("hall_floor", "concrete", slab(-x, x, -0.1, 0.0, -z, z), parent=hall)
    side_walls = [slab(-x - w, -x, 0.0, h, -z, z), slab(x, x + w, 0.0, h, -z, z)]
    end_walls = []
    for z0, z1 in ((-z - w, -z), (z, z + w)):
        end_walls += [
            slab(-x, -d, 0.0, h, z0, z1),
            slab(d, x, 0.0, h, z0, z1),
            slab(-d, d, DOOR_HEIGHT, h, z0, z1),
        ]
    b.add("hall_walls", "wall", *side_walls, *end_walls, parent=hall)
    lamps = [slab(-0.6, 0.6, h - 0.15, h - 0.1, zc - 0.15, zc + 0.15) for zc in (-8.0, 0.0, 8.0)]
    for i, lamp in enumerate(lamps, start=1):
        b.add(f"ceiling_lamp_{i}_bulb", "lamp", lamp, parent=hall)


def add_exit(b: Builder, name: str, z: float) -> None:
    door = b.group(name, (0.0, 0.0, z))
    b.add(
        f"{name}_door",
        "door_green",
        slab(-DOOR_HALF_WIDTH, DOOR_HALF_WIDTH, 0.0, DOOR_HEIGHT, -0.05, 0.05),
        parent=door,
    )
    b.add(f"{name}_sign", "exit_sign", slab(-0.4, 0.4, 2.55, 2.8, -0.08, 0.08), parent=door)


def add_shelving(b: Builder) -> None:
    """Four racks, two each side of the centre aisle, with crates on three levels."""
    for i, (xc, zc) in enumerate(((-4.5, -4.0), (-4.5, 5.0), (4.5, -4.0), (4.5, 0.5)), start=1):
        rack = b.group(f"shelving_{i}", (xc, 0.0, zc))
        posts = [
            slab(px - 0.05, px + 0.05, 0.0, 4.0, pz - 0.05, pz + 0.05)
            for px in (-0.6, 0.6)
            for pz in (-3.0, 0.0, 3.0)
        ]
        beams = [slab(-0.6, 0.6, y, y + 0.08, -3.0, 3.0) for y in (0.2, 1.5, 2.8)]
        b.add(f"shelving_{i}_frame", "steel_orange", *posts, parent=rack)
        b.add(f"shelving_{i}_beams", "steel_grey", *beams, parent=rack)
        crates = [
            slab(-0.5, 0.5, y + 0.08, y + 0.08 + size, c - size / 2, c + size / 2)
            for y, size in ((0.2, 0.9), (1.5, 0.8), (2.8, 0.7))
            for c in (-2.0, 0.0, 2.0)
            if (i + int(c) + int(y)) % 4 != 0  # leave some gaps, as in any real store
        ]
        b.add(f"crates_{i}", "cardboard", *crates, parent=rack)


def add_hazard(b: Builder) -> None:
    cylinder = b.group("gas_cylinder", CYLINDER_AT)
    b.add(
        "gas_cylinder_body",
        "cylinder_yellow",
        upright_cylinder(0.15, 1.3, (0, 0, 0)),
        parent=cylinder,
    )
    b.add(
        "gas_cylinder_valve",
        "steel_grey",
        upright_cylinder(0.04, 0.15, (0, 1.3, 0)),
        parent=cylinder,
    )
    alarm = b.group("alarm_light", (0.0, 3.2, -HALF_Z + 0.15))
    b.add("alarm_light_bulb", "alarm_red", upright_cylinder(0.12, 0.18, (0, 0, 0)), parent=alarm)
    button = b.group("alarm_button", (-HALF_X + 0.05, 1.4, 0.0))
    b.add("alarm_button_box", "button_red", slab(0.0, 0.06, -0.1, 0.1, -0.1, 0.1), parent=button)


def add_coworker(b: Builder) -> None:
    person = b.group("coworker", (-3.0, 0.0, 2.0))
    body = [slab(-0.2, 0.2, 0.0, 1.45, -0.12, 0.12)]
    b.add("coworker_body", "overalls", *body, parent=person)
    head = trimesh.creation.icosphere(subdivisions=1, radius=0.12)
    head.apply_translation((0.0, 1.6, 0.0))
    b.add("coworker_head", "skin", head, parent=person)


def build_scene() -> trimesh.Scene:
    b = Builder()
    add_hall(b)
    add_exit(b, "exit_north", -HALF_Z)
    add_exit(b, "exit_south", HALF_Z)
    add_shelving(b)
    add_hazard(b)
    add_coworker(b)
    return b.scene


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    output: Path = parser.parse_args().output
    data = build_scene().export(file_type="glb", include_normals=False)
    output.write_bytes(data)
    print(f"wrote {output} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
