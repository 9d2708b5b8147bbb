"""View-frustum culling: spheres behind or beside the camera are skipped, anything that
could touch the view is kept, ranges merge, and a culled frame is pixel-identical to
drawing everything."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixstream.pose import Pose
from streamer.render import camera
from streamer.render.culling import Clusters, cluster_order, triangle_cells, visible_ranges
from streamer.render.factory import create_frame_source
from streamer.render.source import RenderRequest

LOOK_AHEAD = camera.perspective_from_fov(camera.symmetric_fov(60, 16 / 9)) @ camera.view_matrix(
    Pose((0.0, 1.6, 0.0))
)


def triangle_at(x: float, z: float, size: float = 0.5) -> np.ndarray:
    return np.array([[x, 0, z], [x + size, 0, z], [x, size, z]], dtype=np.float32)


def clusters_of(*triangles: np.ndarray) -> Clusters:
    positions = np.concatenate(triangles)
    keys = np.repeat(np.arange(len(triangles)), 3)
    return Clusters.from_sorted(positions, keys)


def test_a_cluster_in_front_is_drawn_and_one_behind_is_not() -> None:
    clusters = clusters_of(triangle_at(0, -10), triangle_at(0, 10))
    assert visible_ranges(clusters, [LOOK_AHEAD]) == [(0, 3)]


def test_a_cluster_far_to_the_side_is_not_drawn() -> None:
    clusters = clusters_of(triangle_at(-100, -10))
    assert visible_ranges(clusters, [LOOK_AHEAD]) == []


def test_a_sphere_crossing_the_frustum_edge_is_kept() -> None:
    # A large triangle mostly outside the view, its corner inside.
    big = np.array([[-60, 0, -10], [0.5, 0, -10], [-60, 20, -10]], dtype=np.float32)
    assert visible_ranges(clusters_of(big), [LOOK_AHEAD]) == [(0, 3)]


def test_any_of_several_views_keeps_a_cluster() -> None:
    turned = camera.perspective_from_fov(camera.symmetric_fov(60, 1.0)) @ camera.view_matrix(
        Pose((0.0, 1.6, 0.0), (0.0, math.sin(math.pi / 2), 0.0, math.cos(math.pi / 2)))
    )
    clusters = clusters_of(triangle_at(0, -10), triangle_at(0, 10))
    assert visible_ranges(clusters, [LOOK_AHEAD, turned]) == [(0, 6)]


def test_adjacent_visible_clusters_merge_into_one_range() -> None:
    clusters = clusters_of(triangle_at(0, -10), triangle_at(1, -10), triangle_at(0, 30))
    assert visible_ranges(clusters, [LOOK_AHEAD]) == [(0, 6)]


def test_ordering_keeps_triangles_whole() -> None:
    positions = np.concatenate([triangle_at(x, 0) for x in (50, 0, 25, 0)])
    cells = triangle_cells(positions)
    order = cluster_order(np.zeros(len(positions), dtype=np.int64), cells)
    assert all(order[i] // 3 == order[i + 1] // 3 == order[i + 2] // 3 for i in range(0, 12, 3))


@pytest.mark.parametrize("yaw", [0.0, 1.2, math.pi])
def test_a_culled_frame_is_identical_to_drawing_everything(
    monkeypatch: pytest.MonkeyPatch, yaw: float
) -> None:
    request = RenderRequest(
        frame_id=1,
        scene_time_s=0.5,
        head=Pose((2.0, 1.6, -5.0), (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))),
    )
    source = create_frame_source("scene", 320, 184)
    culled = source.render(request).i420.copy()
    monkeypatch.setattr(
        "streamer.render.scene.visible_ranges",
        lambda clusters, vps: [(0, int(clusters.first[-1] + clusters.count[-1]))],
    )
    everything = source.render(request).i420.copy()
    source.close()
    assert np.array_equal(culled, everything)
