"""Loading glTF into world-space arrays: transforms, normals, colours, named bounds, errors."""

# trimesh ships py.typed but leaves constructors unannotated
# mypy: allow-untyped-calls

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import trimesh
from trimesh.visual import ColorVisuals, TextureVisuals
from trimesh.visual.material import PBRMaterial

from streamer.render.gltf import SceneGeometry, SceneLoadError, load_scene


def box_with_material(base: tuple[float, float, float]) -> trimesh.Trimesh:
    box: trimesh.Trimesh = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.visual = TextureVisuals(material=PBRMaterial(baseColorFactor=[*base, 1.0]))
    return box


def translation(x: float, y: float, z: float) -> npt.NDArray[np.float64]:
    matrix = np.eye(4)
    matrix[:3, 3] = (x, y, z)
    return matrix


@pytest.fixture
def nested_scene(tmp_path: Path) -> Path:
    """A group at (10, 0, 0) holding a unit box 2 m above it: world centre (10, 2, 0)."""
    scene = trimesh.Scene()
    scene.graph.update(frame_from="world", frame_to="group", matrix=translation(10.0, 0.0, 0.0))
    scene.add_geometry(
        box_with_material((1.0, 0.5, 0.0)),
        node_name="box",
        geom_name="box",
        parent_node_name="group",
        transform=translation(0.0, 2.0, 0.0),
    )
    path = tmp_path / "nested.glb"
    path.write_bytes(scene.export(file_type="glb", include_normals=False))
    return path


def test_node_transforms_are_baked_into_world_positions(nested_scene: Path) -> None:
    scene = load_scene(nested_scene)

    np.testing.assert_allclose(scene.positions.mean(axis=0), (10.0, 2.0, 0.0), atol=1e-5)
    assert scene.triangle_count == 12
    assert scene.positions.shape == (36, 3)


def test_a_group_node_has_the_bounds_of_its_children(nested_scene: Path) -> None:
    bounds = load_scene(nested_scene).node_bounds

    np.testing.assert_allclose(bounds["box"][0], (9.5, 1.5, -0.5), atol=1e-5)
    np.testing.assert_allclose(bounds["group"][1], (10.5, 2.5, 0.5), atol=1e-5)


def test_missing_normals_become_flat_outward_normals(nested_scene: Path) -> None:
    scene = load_scene(nested_scene)
    triangles = scene.positions.reshape(-1, 3, 3)
    normals = scene.normals.reshape(-1, 3, 3)

    np.testing.assert_allclose(np.linalg.norm(scene.normals, axis=1), 1.0, atol=1e-5)
    assert np.allclose(normals, normals[:, :1])  # one normal per triangle
    outward = np.einsum("ij,ij->i", normals[:, 0], triangles.mean(axis=1) - (10.0, 2.0, 0.0))
    assert (outward > 0).all()


def test_base_colour_and_emission_come_from_the_material(
    floor_scene_path: Path, floor_emissive: tuple[float, float, float]
) -> None:
    scene = load_scene(floor_scene_path)

    np.testing.assert_allclose(scene.base_colour, 0.0)
    np.testing.assert_allclose(scene.emissive, np.tile(floor_emissive, (6, 1)), atol=1e-6)


def test_vertex_colours_tint_the_base_colour(tmp_path: Path) -> None:
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.visual = ColorVisuals(box, vertex_colors=np.tile([255, 0, 255, 255], (8, 1)))
    path = tmp_path / "coloured.glb"
    path.write_bytes(trimesh.Scene(box).export(file_type="glb", include_normals=False))

    scene = load_scene(path)

    np.testing.assert_allclose(scene.base_colour, np.tile([1.0, 0.0, 1.0], (36, 1)), atol=1e-6)


def test_a_missing_file_raises_a_scene_load_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_scene.glb"

    with pytest.raises(SceneLoadError, match=r"no_such_scene\.glb"):
        load_scene(missing)


def test_a_corrupt_file_raises_a_scene_load_error_naming_it(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.glb"
    corrupt.write_bytes(b"glTF\x02\x00\x00\x00 not really")

    with pytest.raises(SceneLoadError, match=r"corrupt\.glb"):
        load_scene(corrupt)


def test_the_sample_scene_names_what_a_trainer_talks_about(sample_scene: SceneGeometry) -> None:
    for name in ("police_car", "light_bar", "civilian_car", "streetlamp_1", "crosswalk"):
        assert name in sample_scene.node_bounds, name


def test_the_light_bar_sits_on_the_police_car_roof(sample_scene: SceneGeometry) -> None:
    car_low, car_high = sample_scene.node_bounds["police_car"]
    bar_low, bar_high = sample_scene.node_bounds["light_bar"]

    assert (car_low <= bar_low).all()
    assert (bar_high <= car_high).all()
    assert bar_low[1] > 1.4


def test_the_sample_scene_is_commit_sized(sample_scene: SceneGeometry) -> None:
    assert 10_000 <= sample_scene.triangle_count <= 16_000
