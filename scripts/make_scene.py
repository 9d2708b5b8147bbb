"""Generates the sample training scene: a night-time traffic stop at a street corner.

The scene ships in the repository (`streamer/assets/street_corner.glb`) and is
rebuilt by this script, deterministically, so the content has a source anyone
can read and change. It is built from boxes and cylinders in metres, in the
glTF frame (right-handed, y up); the default viewer pose (0, 1.6, 0) stands on
the centre line looking down the street (-z) at a police car that has pulled
over a civilian car short of a crossing.

Naming is the contract with the renderer and with scenario work:
- group nodes name objects a trainer refers to (`police_car`, `light_bar`,
  `civilian_car`, `streetlamp_1`, `crosswalk`, `bench_1`, ...);
- a mesh node ending in `_bulb` is a light source (the renderer puts a point
  light at its centre, coloured by its emissive factor);
- `light_bar_red` and `light_bar_blue` are the police strobes the renderer
  animates.

Normals are left out of the file: glTF requires loaders to compute flat
normals then, which is the look we want and keeps the file small.

Usage: python scripts/make_scene.py [--output PATH]
"""

# trimesh ships py.typed but leaves many functions unannotated
# mypy: allow-untyped-calls

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import trimesh
from meshkit import merge, translation, with_material

OUTPUT = Path(__file__).resolve().parents[1] / "streamer" / "assets" / "street_corner.glb"
SEED = 20240611  # fixes which windows are lit

Vec3 = tuple[float, float, float]
Matrix = npt.NDArray[np.float64]

# name -> (baseColorFactor RGB, emissiveFactor RGB), linear
MATERIALS: dict[str, tuple[Vec3, Vec3]] = {
    "asphalt": ((0.045, 0.045, 0.05), (0.0, 0.0, 0.0)),
    "paving": ((0.16, 0.155, 0.15), (0.0, 0.0, 0.0)),
    "kerb": ((0.3, 0.3, 0.29), (0.0, 0.0, 0.0)),
    "road_paint": ((0.75, 0.75, 0.72), (0.0, 0.0, 0.0)),
    "road_paint_yellow": ((0.7, 0.5, 0.05), (0.0, 0.0, 0.0)),
    "brick": ((0.3, 0.09, 0.06), (0.0, 0.0, 0.0)),
    "render_beige": ((0.42, 0.36, 0.27), (0.0, 0.0, 0.0)),
    "concrete": ((0.28, 0.28, 0.3), (0.0, 0.0, 0.0)),
    "stone_dark": ((0.12, 0.12, 0.13), (0.0, 0.0, 0.0)),
    "stone_light": ((0.5, 0.48, 0.44), (0.0, 0.0, 0.0)),
    "window_dark": ((0.015, 0.02, 0.03), (0.0, 0.0, 0.0)),
    "window_warm": ((0.1, 0.08, 0.05), (0.95, 0.7, 0.36)),
    "window_tv": ((0.05, 0.06, 0.1), (0.28, 0.38, 0.75)),
    "shop_glass": ((0.2, 0.22, 0.24), (0.62, 0.66, 0.6)),
    "shop_shelves": ((0.05, 0.05, 0.06), (0.06, 0.05, 0.04)),
    "shop_sign": ((0.2, 0.02, 0.02), (1.0, 0.12, 0.08)),
    "awning": ((0.04, 0.22, 0.1), (0.0, 0.0, 0.0)),
    "door": ((0.08, 0.05, 0.03), (0.0, 0.0, 0.0)),
    "metal_dark": ((0.04, 0.045, 0.05), (0.0, 0.0, 0.0)),
    "metal_grey": ((0.35, 0.36, 0.38), (0.0, 0.0, 0.0)),
    "lamp_sodium": ((0.3, 0.25, 0.15), (1.0, 0.72, 0.38)),
    "police_white": ((0.8, 0.8, 0.82), (0.0, 0.0, 0.0)),
    "police_blue": ((0.02, 0.06, 0.4), (0.0, 0.0, 0.0)),
    "civilian_paint": ((0.3, 0.03, 0.04), (0.0, 0.0, 0.0)),
    "car_glass": ((0.02, 0.025, 0.035), (0.0, 0.0, 0.0)),
    "rubber": ((0.02, 0.02, 0.02), (0.0, 0.0, 0.0)),
    "hubcap": ((0.45, 0.45, 0.47), (0.0, 0.0, 0.0)),
    "headlight": ((0.8, 0.8, 0.8), (1.0, 0.97, 0.88)),
    "taillight": ((0.3, 0.0, 0.0), (0.9, 0.02, 0.02)),
    "strobe_red": ((0.4, 0.0, 0.0), (1.0, 0.04, 0.02)),
    "strobe_blue": ((0.0, 0.02, 0.4), (0.05, 0.2, 1.0)),
    "signal_red": ((0.3, 0.0, 0.0), (1.0, 0.06, 0.03)),
    "signal_off": ((0.03, 0.03, 0.03), (0.0, 0.0, 0.0)),
    "wood": ((0.22, 0.12, 0.05), (0.0, 0.0, 0.0)),
    "bin_green": ((0.03, 0.12, 0.05), (0.0, 0.0, 0.0)),
    "hydrant_red": ((0.5, 0.04, 0.03), (0.0, 0.0, 0.0)),
    "bark": ((0.08, 0.05, 0.03), (0.0, 0.0, 0.0)),
    "leaves": ((0.04, 0.1, 0.04), (0.0, 0.0, 0.0)),
    "shelter_glass": ((0.25, 0.3, 0.33), (0.0, 0.0, 0.0)),
    "advert": ((0.3, 0.3, 0.3), (0.55, 0.6, 0.7)),
}


# ---------------------------------------------------------------- geometry


def rotation_y(degrees: float) -> Matrix:
    return np.asarray(trimesh.transformations.rotation_matrix(math.radians(degrees), (0, 1, 0)))


def rotation_x(degrees: float) -> Matrix:
    return np.asarray(trimesh.transformations.rotation_matrix(math.radians(degrees), (1, 0, 0)))


def rotation_z(degrees: float) -> Matrix:
    return np.asarray(trimesh.transformations.rotation_matrix(math.radians(degrees), (0, 0, 1)))


def box(size: Vec3, centre: Vec3 = (0.0, 0.0, 0.0), yaw: float = 0.0) -> trimesh.Trimesh:
    mesh: trimesh.Trimesh = trimesh.creation.box(
        extents=size, transform=translation(*centre) @ rotation_y(yaw)
    )
    return mesh


def slab(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> trimesh.Trimesh:
    """An axis-aligned box given by its extents, the natural way to lay out streets.

    Built through `box` (not meshkit.slab) so the shipped asset keeps its exact bytes.
    """
    return box((x1 - x0, y1 - y0, z1 - z0), ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2))


def quad(x0: float, x1: float, y0: float, y1: float, z: float) -> trimesh.Trimesh:
    """A rectangle facing +z: window panes and paint, where a box's sides would never show."""
    vertices = [(x0, y0, z), (x1, y0, z), (x1, y1, z), (x0, y1, z)]
    return trimesh.Trimesh(vertices=vertices, faces=[(0, 1, 2), (0, 2, 3)], process=False)


def ground_quad(x0: float, x1: float, z0: float, z1: float, y: float) -> trimesh.Trimesh:
    """A rectangle facing up, for road markings."""
    return quad(x0, x1, -z1, -z0, 0.0).apply_transform(translation(0.0, y, 0.0) @ rotation_x(-90))


def relief(x0: float, x1: float, y0: float, y1: float, depth: float) -> trimesh.Trimesh:
    """A box standing out of a wall (+z out), without the back face nobody can see."""
    mesh = slab(x0, x1, y0, y1, 0.0, depth)
    keep = np.asarray(mesh.face_normals)[:, 2] > -0.5
    return trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces[keep], process=False)


def face_grid(
    origin: Vec3, u: Vec3, v: Vec3, u_cuts: list[float], v_cuts: list[float]
) -> trimesh.Trimesh:
    """A rectangle split into cells at the given fractions of u and v; it faces u x v.

    The renderer lights per vertex (baked, see streamer/render/scene.py), so
    surfaces that lamps should light in pools need vertices a few metres apart.
    """
    o, du, dv = np.asarray(origin), np.asarray(u), np.asarray(v)
    a, c = np.asarray(u_cuts), np.asarray(v_cuts)
    grid = o + a[None, :, None] * du + c[:, None, None] * dv
    vertices = grid.reshape(-1, 3)
    nu = len(a)
    faces = []
    for j in range(len(c) - 1):
        for i in range(nu - 1):
            p00, p10, p01, p11 = j * nu + i, j * nu + i + 1, (j + 1) * nu + i, (j + 1) * nu + i + 1
            faces += [(p00, p10, p11), (p00, p11, p01)]
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


def even_cuts(length: float, cell: float | None) -> list[float]:
    """Fractions splitting `length` into equal cells no longer than `cell` (None: one cell)."""
    count = 1 if cell is None else max(1, math.ceil(length / cell - 1e-9))
    return [i / count for i in range(count + 1)]


def zoned_cuts(lo: float, hi: float, fine: tuple[float, float]) -> list[float]:
    """Fractions with FINE_CELL spacing inside the `fine` interval and COARSE_CELL outside."""
    points = {lo, hi, *np.arange(lo, hi, COARSE_CELL)}
    start, stop = max(lo, fine[0]), min(hi, fine[1])
    if start < stop:
        points |= {*np.arange(start, stop, FINE_CELL), stop}
    return [(p - lo) / (hi - lo) for p in sorted(float(p) for p in points)]


def ground_grid(x0: float, x1: float, z0: float, z1: float, y: float) -> trimesh.Trimesh:
    """Level ground, finely split where the trainee stands, coarsely beyond."""
    return face_grid(
        (x0, y, z1),
        (x1 - x0, 0.0, 0.0),
        (0.0, 0.0, z0 - z1),
        zoned_cuts(x0, x1, FINE_X),
        [1.0 - f for f in reversed(zoned_cuts(z0, z1, FINE_Z))],
    )


def block(
    x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, cell: float | None
) -> trimesh.Trimesh:
    """A box without its bottom face, each face split into cells of at most `cell` metres."""
    dx, dy, dz = x1 - x0, y1 - y0, z1 - z0
    ux, uy, uz = even_cuts(dx, cell), even_cuts(dy, cell), even_cuts(dz, cell)
    faces = [
        face_grid((x1, y0, z1), (0.0, 0.0, -dz), (0.0, dy, 0.0), uz, uy),
        face_grid((x0, y0, z0), (0.0, 0.0, dz), (0.0, dy, 0.0), uz, uy),
        face_grid((x0, y0, z1), (dx, 0.0, 0.0), (0.0, dy, 0.0), ux, uy),
        face_grid((x1, y0, z0), (-dx, 0.0, 0.0), (0.0, dy, 0.0), ux, uy),
        face_grid((x0, y1, z1), (dx, 0.0, 0.0), (0.0, 0.0, -dz), ux, uz),
    ]
    return merge(faces)


def tapered_box(
    bottom: tuple[float, float], top: tuple[float, float], y0: float, y1: float, top_dz: float
) -> trimesh.Trimesh:
    """A box whose top face is smaller (and shifted along z): car cabins with raked glass."""
    mesh = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    v = np.array(mesh.vertices)
    is_top = v[:, 1] > 0
    width = np.where(is_top, top[0], bottom[0])
    length = np.where(is_top, top[1], bottom[1])
    v[:, 0] *= width
    v[:, 2] = v[:, 2] * length + np.where(is_top, top_dz, 0.0)
    v[:, 1] = np.where(is_top, y1, y0)
    return trimesh.Trimesh(vertices=v, faces=mesh.faces, process=False)


def cylinder(
    radius: float, height: float, centre: Vec3, axis: str = "y", sections: int = 12
) -> trimesh.Trimesh:
    """A cylinder along x, y or z (trimesh builds them along z)."""
    orient = {"x": rotation_y(90.0), "y": rotation_x(-90.0), "z": np.eye(4)}[axis]
    mesh: trimesh.Trimesh = trimesh.creation.cylinder(
        radius=radius, height=height, sections=sections, transform=translation(*centre) @ orient
    )
    return mesh


def sphere(radius: float, centre: Vec3) -> trimesh.Trimesh:
    mesh: trimesh.Trimesh = trimesh.creation.icosphere(subdivisions=1, radius=radius)
    mesh.apply_translation(centre)
    return mesh


# ---------------------------------------------------------------- scene graph


@dataclass
class SceneBuilder:
    """Collects meshes per (node, material) and writes one glTF mesh node for each.

    Merging every piece of one material under one node keeps the node count
    (and the file) small; instancing shares one mesh between identical parts
    such as wheels.
    """

    scene: trimesh.Scene = field(default_factory=trimesh.Scene)
    parts: dict[str, tuple[str, str, list[trimesh.Trimesh]]] = field(default_factory=dict)
    shared: set[str] = field(default_factory=set)

    def group(self, name: str, parent: str = "world", transform: Matrix | None = None) -> str:
        matrix = np.eye(4) if transform is None else transform
        self.scene.graph.update(frame_from=parent, frame_to=name, matrix=matrix)
        return name

    def add(self, node: str, material: str, *meshes: trimesh.Trimesh, parent: str) -> None:
        """Adds meshes, in the parent's frame, to the mesh node `node`."""
        if node in self.parts and self.parts[node][1] != material:
            raise ValueError(f"node {node} already has material {self.parts[node][1]}")
        self.parts.setdefault(node, (parent, material, []))[2].extend(meshes)

    def instance(
        self, node: str, geometry: str, parent: str, transform: Matrix, make: trimesh.Trimesh
    ) -> None:
        """Places a shared mesh (created on first use) as node `node`."""
        if geometry not in self.shared:
            self.scene.geometry[geometry] = make
            self.shared.add(geometry)
        self.scene.graph.update(
            frame_from=parent, frame_to=node, matrix=transform, geometry=geometry
        )

    def build(self) -> trimesh.Scene:
        for node, (parent, material, meshes) in self.parts.items():
            self.scene.add_geometry(
                with_material(merge(meshes), material, *MATERIALS[material]),
                node_name=node,
                geom_name=node,
                parent_node_name=parent,
            )
        return self.scene


# ---------------------------------------------------------------- streets

ROAD_HALF_WIDTH = 5.0
PAVEMENT_EDGE = 9.0  # building line, metres from the centre line
CROSS_Z = (-38.0, -26.0)  # the cross street's kerbs
KERB_HEIGHT = 0.15
FINE_X = (-12.0, 12.0)  # where ground is split finely: around the traffic stop
FINE_Z = (-62.0, 30.0)
FINE_CELL = 2.0
COARSE_CELL = 25.0
WALL_CELL = 3.2


def add_streets(b: SceneBuilder) -> None:
    streets = b.group("streets")
    r = ROAD_HALF_WIDTH
    b.add(
        "road",
        "asphalt",
        ground_grid(-r, r, -160.0, 60.0, 0.0),
        ground_grid(-150.0, -r, CROSS_Z[0], CROSS_Z[1], 0.0),
        ground_grid(r, 150.0, CROSS_Z[0], CROSS_Z[1], 0.0),
        parent=streets,
    )
    add_pavements(b, streets)
    add_markings(b, streets)
    add_crosswalk(b)


def add_pavements(b: SceneBuilder, parent: str) -> None:
    """Four corner blocks of paving, each edged by a kerb along both streets."""
    r, k = ROAD_HALF_WIDTH, KERB_HEIGHT
    blocks = [(-150.0, -r, CROSS_Z[1], 60.0), (r, 150.0, CROSS_Z[1], 60.0)]
    blocks += [(-150.0, -r, -160.0, CROSS_Z[0]), (r, 150.0, -160.0, CROSS_Z[0])]
    paving, kerbs = [], []
    for x0, x1, z0, z1 in blocks:
        paving.append(ground_grid(x0, x1, z0, z1, k - 0.01))
        kx = x1 - 0.25 if x1 == -r else x0
        kerbs.append(slab(kx, kx + 0.25, 0.0, k, z0, z1))
        kz = z0 if z0 == CROSS_Z[1] else z1 - 0.25
        kerbs.append(slab(x0, x1, 0.0, k, kz, kz + 0.25))
    b.add("pavements", "paving", *paving, parent=parent)
    b.add("kerbs", "kerb", *kerbs, parent=parent)
    joints = [slab(x, x + 0.03, k - 0.01, k - 0.005, -160, 60) for x in (-8.0, -6.5, 6.5, 8.0)]
    b.add("paving_joints", "stone_dark", *joints, parent=parent)


def add_markings(b: SceneBuilder, parent: str) -> None:
    dashes = [
        ground_quad(-0.08, 0.08, z, z + 3.0, 0.01)
        for z in np.arange(-160.0, 60.0, 9.0)
        if not CROSS_Z[0] - 4 < z < CROSS_Z[1] + 1
    ]
    edges = []
    for z0, z1 in ((CROSS_Z[1] + 4.0, 60.0), (-160.0, CROSS_Z[0] - 4.0)):
        edges += [ground_quad(x - 0.06, x + 0.06, z0, z1, 0.01) for x in (-4.4, 4.4)]
    stop_line = ground_quad(0.1, ROAD_HALF_WIDTH - 0.3, CROSS_Z[1] + 3.6, CROSS_Z[1] + 4.0, 0.01)
    b.add("lane_markings", "road_paint", *dashes, *edges, stop_line, parent=parent)
    cross_dashes = [
        ground_quad(x, x + 3.0, -32.08, -31.92, 0.01)
        for x in np.arange(-150.0, 150.0, 9.0)
        if abs(x + 1.5) > 9
    ]
    b.add("cross_street_markings", "road_paint_yellow", *cross_dashes, parent=parent)


def add_crosswalk(b: SceneBuilder) -> None:
    """A zebra crossing over the main road just before the junction."""
    crosswalk = b.group("crosswalk")
    z0, z1 = CROSS_Z[1] + 0.6, CROSS_Z[1] + 3.2
    stripes = [ground_quad(x, x + 0.5, z0, z1, 0.012) for x in np.arange(-4.6, 4.6, 1.0)]
    b.add("crosswalk_stripes", "road_paint", *stripes, parent=crosswalk)


# ---------------------------------------------------------------- buildings

FLOOR_HEIGHT = 3.2


@dataclass(frozen=True)
class Facade:
    """One wall with windows: `origin` is its left end at street level, seen from outside."""

    origin: Vec3
    yaw: float  # 0: faces +z; 90: faces +x; -90: faces -x; 180: faces -z
    length: float
    floors: int
    first_floor: int = 0  # floors below this have no windows (shop fronts, entrances)
    detailed: bool = True  # window surrounds and sills; off for distant buildings


def add_building(
    b: SceneBuilder,
    name: str,
    footprint: tuple[float, float, float, float],
    floors: int,
    wall: str,
    facades: list[Facade],
    rng: np.random.Generator,
    wall_cell: float | None = WALL_CELL,
) -> str:
    x0, x1, z0, z1 = footprint
    group = b.group(name)
    height = floors * FLOOR_HEIGHT + 0.4
    b.add(f"{name}_walls", wall, block(x0, x1, 0.0, height, z0, z1, wall_cell), parent=group)
    trim = [slab(x0 - 0.15, x1 + 0.15, height, height + 0.35, z0 - 0.15, z1 + 0.15)]
    trim += [
        slab(x0 - 0.08, x1 + 0.08, y, y + 0.15, z0 - 0.08, z1 + 0.08)
        for y in np.arange(FLOOR_HEIGHT, height - 1.0, FLOOR_HEIGHT)
    ]
    b.add(f"{name}_cornices", "stone_light", *trim, parent=group)
    for facade in facades:
        add_windows(b, name, facade, rng)
    return group


def add_windows(b: SceneBuilder, building: str, facade: Facade, rng: np.random.Generator) -> None:
    """Evenly spaced windows, each a pane that is lit or dark at random.

    Near facades also get a stone surround and a sill; far ones only panes,
    which is all that shows at that distance.
    """
    frame = rotation_matrix_for(facade)
    count = int(facade.length // 2.7)
    spacing = facade.length / count
    panes: dict[str, list[trimesh.Trimesh]] = {
        "window_dark": [],
        "window_warm": [],
        "window_tv": [],
    }
    nodes = {"window_dark": "windows_dark", "window_warm": "windows_lit", "window_tv": "windows_tv"}
    surrounds = []
    for floor in range(facade.first_floor, facade.floors):
        for i in range(count):
            u = (i + 0.5) * spacing
            v = floor * FLOOR_HEIGHT + 1.0
            pane = str(rng.choice(list(panes), p=[0.55, 0.35, 0.1]))
            panes[pane].append(quad(u - 0.6, u + 0.6, v, v + 1.5, 0.03).apply_transform(frame))
            if facade.detailed:
                surrounds.append(quad(u - 0.72, u + 0.72, v - 0.1, v + 1.62, 0.015))
                surrounds.append(relief(u - 0.8, u + 0.8, v - 0.18, v - 0.06, 0.12))
    for material, meshes in panes.items():
        if meshes:
            b.add(f"{building}_{nodes[material]}", material, *meshes, parent=building)
    if surrounds:
        surrounds = [m.apply_transform(frame) for m in surrounds]
        b.add(f"{building}_window_frames", "stone_light", *surrounds, parent=building)


def rotation_matrix_for(facade: Facade) -> Matrix:
    """Facade space (u along the wall, v up, +z out of the wall) to world space."""
    return translation(*facade.origin) @ rotation_y(facade.yaw)


def add_buildings(b: SceneBuilder) -> None:
    rng = np.random.default_rng(SEED)
    e, cz0, cz1 = PAVEMENT_EDGE, CROSS_Z[1] + 4.0, CROSS_Z[0] - 4.0
    # near left: apartments, then the corner shop
    add_building(
        b,
        "building_apartments_left",
        (-22.0, -e, -6.0, 40.0),
        4,
        "render_beige",
        [Facade((-e, 0.0, 40.0), 90.0, 46.0, 4)],
        rng,
    )
    shop = add_building(
        b,
        "building_corner_shop",
        (-22.0, -e, cz0, -6.0),
        3,
        "brick",
        [
            Facade((-e, 0.0, -6.0), 90.0, -6.0 - cz0, 3, first_floor=1),
            Facade((-e, 0.0, cz0), 180.0, 22.0 - e, 3, first_floor=1),
        ],
        rng,
    )
    add_shop_front(b, shop, x=-e, z0=cz0 + 0.8, z1=-7.0)
    # near right: a tall block of flats along the whole street
    flats = add_building(
        b,
        "building_flats_right",
        (e, 26.0, cz0, 40.0),
        5,
        "concrete",
        [
            Facade((e, 0.0, cz0), -90.0, 40.0 - cz0, 5, first_floor=1),
            Facade((26.0, 0.0, cz0), 180.0, 26.0 - e, 5, first_floor=1),
        ],
        rng,
    )
    add_entrance(b, flats, x=e, z=-8.0)
    # across the junction
    add_building(
        b,
        "building_office_far_left",
        (-34.0, -e, -90.0, cz1),
        7,
        "stone_dark",
        [
            Facade((-34.0, 0.0, cz1), 0.0, 34.0 - e, 7, detailed=False),
            Facade((-e, 0.0, cz1), 90.0, 90.0 + cz1, 7, detailed=False),
        ],
        rng,
    )
    add_building(
        b,
        "building_terrace_far_right",
        (e, 30.0, -70.0, cz1),
        3,
        "brick",
        [
            Facade((e, 0.0, cz1), 0.0, 30.0 - e, 3, detailed=False),
            Facade((e, 0.0, -70.0), -90.0, 70.0 + cz1, 3, detailed=False),
        ],
        rng,
    )
    add_building(
        b,
        "building_tower_far",
        (-12.0, 14.0, -130.0, -105.0),
        12,
        "concrete",
        [Facade((-12.0, 0.0, -105.0), 0.0, 26.0, 12, detailed=False)],
        rng,
        wall_cell=None,  # no lamp reaches it
    )


def add_shop_front(b: SceneBuilder, parent: str, x: float, z0: float, z1: float) -> None:
    """A lit convenience store: display glass, door, awning and a red sign."""
    front = b.group("shop_front", parent)
    mid = (z0 + z1) / 2
    b.add("shop_front_window_bulb", "shop_glass", slab(x, x + 0.06, 0.5, 2.7, z0, z1), parent=front)
    b.add(
        "shop_front_frame",
        "metal_dark",
        slab(x, x + 0.1, 0.0, 0.5, z0 - 0.2, z1 + 0.2),
        slab(x, x + 0.1, 2.7, 2.85, z0 - 0.2, z1 + 0.2),
        *[slab(x, x + 0.12, 0.5, 2.7, z, z + 0.1) for z in np.linspace(z0, z1 - 0.1, 5)],
        parent=front,
    )
    shelves = [slab(x + 0.06, x + 0.08, y, y + 0.12, z0 + 0.3, z1 - 0.3) for y in (0.9, 1.5, 2.1)]
    shelves += [
        slab(x + 0.06, x + 0.08, 0.5, 2.2, z, z + 0.1) for z in np.linspace(z0 + 1.5, z1 - 1.5, 6)
    ]
    b.add("shop_front_shelves", "shop_shelves", *shelves, parent=front)
    b.add("shop_front_door", "door", slab(x, x + 0.08, 0.0, 2.4, z1 + 0.3, z1 + 1.3), parent=front)
    awning = box((1.6, 0.08, z1 - z0 + 0.6), (0.0, 0.0, 0.0))
    awning.apply_transform(translation(x + 0.75, 3.05, mid) @ rotation_z(-14.0))
    b.add("shop_front_awning", "awning", awning, parent=front)
    b.add(
        "shop_front_sign",
        "shop_sign",
        slab(x, x + 0.2, 3.5, 4.0, mid - 2.5, mid + 2.5),
        parent=front,
    )


def add_entrance(b: SceneBuilder, parent: str, x: float, z: float) -> None:
    entrance = b.group("flats_entrance", parent)
    b.add(
        "flats_entrance_door",
        "door",
        slab(x - 0.08, x, 0.0, 2.5, z - 1.0, z + 1.0),
        parent=entrance,
    )
    b.add(
        "flats_entrance_canopy",
        "metal_grey",
        slab(x - 1.4, x, 2.8, 2.95, z - 1.6, z + 1.6),
        parent=entrance,
    )
    b.add(
        "flats_entrance_step",
        "stone_light",
        slab(x - 1.0, x, 0.0, 0.3, z - 1.3, z + 1.3),
        parent=entrance,
    )


# ---------------------------------------------------------------- vehicles


@dataclass(frozen=True)
class CarSpec:
    name: str
    paint: str
    police: bool


def add_car(b: SceneBuilder, spec: CarSpec, at: Vec3, yaw: float) -> None:
    """A saloon car facing -z in its own frame, wheels on the ground."""
    car = b.group(spec.name, transform=translation(*at) @ rotation_y(yaw))
    n = spec.name
    b.add(
        f"{n}_body",
        spec.paint,
        slab(-0.92, 0.92, 0.32, 0.82, -2.35, 2.35),
        tapered_box((1.84, 4.5), (1.8, 4.3), 0.82, 0.98, 0.05),
        tapered_box((1.5, 1.75), (1.36, 1.55), 1.47, 1.53, 0.15),
        parent=car,
    )
    b.add(
        f"{n}_glass",
        "car_glass",
        tapered_box((1.74, 2.6), (1.46, 1.7), 0.98, 1.48, 0.15),
        parent=car,
    )
    trims = [slab(-0.95, 0.95, 0.25, 0.5, z0, z1) for z0, z1 in ((-2.5, -2.3), (2.3, 2.48))]
    trims += [slab(x0, x1, 0.95, 1.05, -0.85, -0.65) for x0, x1 in ((-1.05, -0.9), (0.9, 1.05))]
    if spec.police:
        trims.append(slab(-0.8, 0.8, 0.3, 0.75, -2.62, -2.5))  # push bar
    b.add(f"{n}_trim", "rubber", *trims, parent=car)
    lights = [slab(x - 0.2, x + 0.2, 0.65, 0.78, -2.36, -2.34) for x in (-0.62, 0.62)]
    b.add(f"{n}_headlights", "headlight", *lights, parent=car)
    tails = [slab(x - 0.22, x + 0.22, 0.66, 0.8, 2.34, 2.36) for x in (-0.62, 0.62)]
    b.add(f"{n}_taillights", "taillight", *tails, parent=car)
    for label, x, z in (
        ("fl", -0.8, -1.45),
        ("fr", 0.8, -1.45),
        ("rl", -0.8, 1.45),
        ("rr", 0.8, 1.45),
    ):
        wheel = b.group(f"{n}_wheel_{label}", car, translation(x, 0.34, z))
        b.instance(f"{n}_wheel_{label}_tyre", "tyre", wheel, np.eye(4), tyre_mesh())
        side = 1.0 if x > 0 else -1.0
        b.instance(
            f"{n}_wheel_{label}_hub", "hub", wheel, translation(side * 0.03, 0, 0), hub_mesh()
        )
    if spec.police:
        add_police_livery(b, car)


def tyre_mesh() -> trimesh.Trimesh:
    return with_material(
        cylinder(0.34, 0.24, (0.0, 0.0, 0.0), "x", sections=18), "rubber", *MATERIALS["rubber"]
    )


def hub_mesh() -> trimesh.Trimesh:
    return with_material(
        cylinder(0.2, 0.2, (0.0, 0.0, 0.0), "x", sections=10), "hubcap", *MATERIALS["hubcap"]
    )


def add_police_livery(b: SceneBuilder, car: str) -> None:
    """Side stripes and the roof light bar with its red and blue strobes."""
    stripes = [slab(x0, x1, 0.52, 0.7, -2.3, 2.3) for x0, x1 in ((-0.935, -0.915), (0.915, 0.935))]
    stripes.append(slab(-0.5, 0.5, 1.531, 1.535, -0.4, 0.6))  # roof number panel
    b.add(f"{car}_stripes", "police_blue", *stripes, parent=car)
    bar = b.group("light_bar", car, translation(0.0, 1.53, 0.15))
    b.add("light_bar_base", "metal_dark", slab(-0.62, 0.62, 0.0, 0.07, -0.16, 0.16), parent=bar)
    b.add("light_bar_red", "strobe_red", slab(-0.6, -0.04, 0.07, 0.19, -0.14, 0.14), parent=bar)
    b.add("light_bar_blue", "strobe_blue", slab(0.04, 0.6, 0.07, 0.19, -0.14, 0.14), parent=bar)


# ---------------------------------------------------------------- street furniture

LAMPS: list[tuple[float, float]] = [
    (5.6, -2.0),
    (-5.6, -11.0),
    (5.6, -20.0),
    (-5.6, -24.0),
    (5.6, -44.0),
    (-5.6, -56.0),
    (5.6, 16.0),
    (-5.6, 10.0),
]


def add_streetlamp(b: SceneBuilder, index: int, x: float, z: float) -> None:
    """A 6 m column with an arm reaching over the road and a sodium lantern."""
    reach = -1.0 if x > 0 else 1.0  # arms point at the road
    lamp = b.group(f"streetlamp_{index}", transform=translation(x, 0.0, z))
    b.add(
        f"streetlamp_{index}_column",
        "metal_dark",
        cylinder(0.11, 0.6, (0.0, 0.3, 0.0), sections=10),
        cylinder(0.07, 6.0, (0.0, 3.3, 0.0), sections=8),
        slab(min(0.0, reach * 1.6), max(0.0, reach * 1.6), 6.05, 6.15, -0.05, 0.05),
        slab(reach * 1.6 - 0.3, reach * 1.6 + 0.3, 6.0, 6.2, -0.2, 0.2),
        parent=lamp,
    )
    b.add(
        f"streetlamp_{index}_bulb",
        "lamp_sodium",
        slab(reach * 1.6 - 0.25, reach * 1.6 + 0.25, 5.94, 6.0, -0.16, 0.16),
        parent=lamp,
    )


def add_traffic_light(b: SceneBuilder, name: str, x: float, z: float, facing: float) -> None:
    signal = b.group(name, transform=translation(x, 0.0, z) @ rotation_y(facing))
    b.add(
        f"{name}_housing",
        "metal_dark",
        cylinder(0.06, 3.0, (0.0, 1.5, 0.0), sections=8),
        slab(-0.18, 0.18, 2.4, 3.3, -0.12, 0.12),
        parent=signal,
    )
    b.add(
        f"{name}_red", "signal_red", cylinder(0.1, 0.04, (0.0, 3.1, 0.13), "z", 10), parent=signal
    )
    off = [cylinder(0.1, 0.04, (0.0, y, 0.13), "z", 10) for y in (2.85, 2.6)]
    b.add(f"{name}_off", "signal_off", *off, parent=signal)


def add_furniture(b: SceneBuilder) -> None:
    for i, (x, z) in enumerate(LAMPS, start=1):
        add_streetlamp(b, i, x, z)
    add_traffic_light(b, "traffic_light_1", 5.4, CROSS_Z[1] + 0.4, 0.0)
    add_traffic_light(b, "traffic_light_2", -5.4, CROSS_Z[0] - 0.4, 180.0)
    add_bench(b, "bench_1", -7.8, -2.0)
    add_bin(b, "bin_1", -7.9, 0.4)
    add_bin(b, "bin_2", 7.9, -14.5)
    add_hydrant(b, "hydrant_1", 5.7, -6.5)
    add_bus_shelter(b, "bus_shelter", -7.2, 4.0)
    for i, (x, z) in enumerate(((7.2, 6.0), (-7.2, -18.0), (7.2, -52.0), (-7.2, -64.0)), 1):
        add_tree(b, f"tree_{i}", x, z)


def add_bench(b: SceneBuilder, name: str, x: float, z: float) -> None:
    bench = b.group(name, transform=translation(x, KERB_HEIGHT, z))
    slats = [slab(-0.25 + dx, -0.15 + dx, 0.45, 0.5, -0.9, 0.9) for dx in (0.0, 0.14, 0.28)]
    slats += [slab(-0.32, -0.28, 0.6 + dy, 0.7 + dy, -0.9, 0.9) for dy in (0.0, 0.15)]
    b.add(f"{name}_slats", "wood", *slats, parent=bench)
    legs = [slab(-0.3, 0.1, 0.0, 0.45, z0, z0 + 0.06) for z0 in (-0.75, 0.69)]
    legs += [slab(-0.34, -0.3, 0.0, 0.9, z0, z0 + 0.06) for z0 in (-0.75, 0.69)]
    b.add(f"{name}_frame", "metal_dark", *legs, parent=bench)


def add_bin(b: SceneBuilder, name: str, x: float, z: float) -> None:
    bin_group = b.group(name, transform=translation(x, KERB_HEIGHT, z))
    b.add(
        f"{name}_body",
        "bin_green",
        cylinder(0.28, 0.9, (0.0, 0.45, 0.0), sections=14),
        parent=bin_group,
    )
    b.add(
        f"{name}_lid",
        "metal_dark",
        cylinder(0.31, 0.08, (0.0, 0.94, 0.0), sections=14),
        parent=bin_group,
    )


def add_hydrant(b: SceneBuilder, name: str, x: float, z: float) -> None:
    hydrant = b.group(name, transform=translation(x, KERB_HEIGHT, z))
    b.add(
        f"{name}_body",
        "hydrant_red",
        cylinder(0.13, 0.6, (0.0, 0.3, 0.0), sections=10),
        sphere(0.14, (0.0, 0.6, 0.0)),
        cylinder(0.05, 0.4, (0.0, 0.42, 0.0), "x", sections=8),
        parent=hydrant,
    )


def add_bus_shelter(b: SceneBuilder, name: str, x: float, z: float) -> None:
    shelter = b.group(name, transform=translation(x, KERB_HEIGHT, z))
    posts = [
        slab(px - 0.05, px + 0.05, 0.0, 2.4, pz - 0.05, pz + 0.05)
        for px in (-0.7, 0.7)
        for pz in (-1.8, 1.8)
    ]
    posts.append(slab(-0.9, 0.9, 2.4, 2.5, -2.0, 2.0))
    b.add(f"{name}_frame", "metal_grey", *posts, parent=shelter)
    b.add(
        f"{name}_glass", "shelter_glass", slab(-0.72, -0.68, 0.2, 2.3, -1.75, 1.75), parent=shelter
    )
    b.add(f"{name}_advert", "advert", slab(-0.62, 0.62, 0.3, 2.1, 1.78, 1.82), parent=shelter)


def add_tree(b: SceneBuilder, name: str, x: float, z: float) -> None:
    tree = b.group(name, transform=translation(x, KERB_HEIGHT, z))
    b.add(f"{name}_trunk", "bark", cylinder(0.14, 3.2, (0.0, 1.6, 0.0), sections=8), parent=tree)
    crown = [
        sphere(r, c)
        for r, c in ((1.6, (0.0, 4.2, 0.0)), (1.2, (0.6, 5.0, 0.3)), (1.1, (-0.5, 4.9, -0.4)))
    ]
    b.add(f"{name}_crown", "leaves", *crown, parent=tree)
    b.add(f"{name}_pit", "metal_dark", slab(-0.6, 0.6, 0.0, 0.02, -0.6, 0.6), parent=tree)


# ---------------------------------------------------------------- assembly


def build_scene() -> trimesh.Scene:
    b = SceneBuilder()
    add_streets(b)
    add_buildings(b)
    add_furniture(b)
    add_car(b, CarSpec("police_car", "police_white", police=True), (2.9, 0.0, -8.5), 0.0)
    add_car(b, CarSpec("civilian_car", "civilian_paint", police=False), (3.0, 0.0, -16.0), -3.0)
    return b.build()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    scene = build_scene()
    data = scene.export(file_type="glb", include_normals=False)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    triangles = 0
    for node in scene.graph.nodes_geometry:
        _, geometry = scene.graph[node]
        triangles += len(scene.geometry[geometry].faces)
    print(f"{args.output}: {len(data)} bytes, {triangles} triangles")


if __name__ == "__main__":
    main()
