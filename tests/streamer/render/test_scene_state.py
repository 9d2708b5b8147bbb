"""SceneState on the real GL stack: what a running scenario changes in the picture.

Covers: hiding a node removes its pixels and nothing else; an offset moves a
node the way it projects, and a node moved into view from behind the camera
is drawn (culling follows the move); a dynamic light's gain changes its lens
and the light it casts; scenario fog lowers contrast towards smoke grey; the
police strobes follow the state instead of their pattern when it names them;
no state and an empty state render the same bytes; both conversion paths and
stereo see the state; unknown names and too many nodes are refused; the pure
planning and per-frame resolution (hierarchy, sums, gains). Frames are
320x180 to stay fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from ixstream.pose import Pose, Vec3
from streamer.render import camera
from streamer.render.dynamics import LENS_OFF, MAX_SLOTS, plan, resolve
from streamer.render.egl import create_headless_gl
from streamer.render.factory import create_frame_source, default_scene_path
from streamer.render.gltf import SceneGeometry, load_scene
from streamer.render.lighting import Look, scene_lights
from streamer.render.scene import SceneRenderer
from streamer.render.source import RenderRequest, SceneState

W, H = 320, 180
I64 = npt.NDArray[np.int64]
WAREHOUSE_NODES = ("coworker", "gas_cylinder", "alarm_light")
STREET_LIGHTS = ("light_bar_red", "light_bar_blue", "streetlamp_3")
SMOKE_Y = 16 + 219 * (0.2126 * 0.34 + 0.7152 * 0.34 + 0.0722 * 0.35)


def look_at(position: Vec3, target: Vec3) -> Pose:
    """A head at `position` whose -z axis points at `target` (yaw, then pitch)."""
    dx, dy, dz = np.subtract(target, position)
    yaw, pitch = math.atan2(-dx, -dz), math.atan2(dy, math.hypot(dx, dz))
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    return Pose(position, (cy * sp, sy * cp, -sy * sp, cy * cp))


def pixel(pose: Pose, point: Vec3) -> tuple[float, float]:
    """Where a world point lands in the mono frame: (column, row from the top)."""
    projection = camera.perspective_from_fov(camera.symmetric_fov(Look().mono_fov_y_deg, W / H))
    clip = projection @ camera.view_matrix(pose) @ np.array([*point, 1.0], dtype=np.float32)
    x, y = clip[0] / clip[3], clip[1] / clip[3]
    return (x + 1) / 2 * W, (1 - y) / 2 * H


def luma(renderer: SceneRenderer, head: Pose, state: SceneState | None, t: float = 0.0) -> I64:
    return renderer.render(RenderRequest(0, t, head=head, state=state)).i420[:H].astype(np.int64)


def centre(scene: SceneGeometry, node: str) -> Vec3:
    low, high = scene.node_bounds[node]
    mid = (low + high) / 2
    return float(mid[0]), float(mid[1]), float(mid[2])


@pytest.fixture(scope="module")
def warehouse_scene() -> SceneGeometry:
    return load_scene(default_scene_path().with_name("warehouse.glb"))


@pytest.fixture
def warehouse(warehouse_scene: SceneGeometry) -> Iterator[SceneRenderer]:
    renderer = SceneRenderer(
        create_headless_gl(),
        warehouse_scene,
        W,
        H,
        dynamic_nodes=WAREHOUSE_NODES,
        dynamic_lights=("alarm_light",),
    )
    yield renderer
    renderer.close()


@pytest.fixture
def street(sample_scene: SceneGeometry) -> Iterator[SceneRenderer]:
    renderer = SceneRenderer(
        create_headless_gl(),
        sample_scene,
        W,
        H,
        dynamic_nodes=("civilian_car",),
        dynamic_lights=STREET_LIGHTS,
    )
    yield renderer
    renderer.close()


# ---------------------------------------------------------------- hide and move


@pytest.mark.parametrize("convert", ["cpu", "gpu"])
def test_hiding_the_gas_cylinder_removes_its_pixels_and_nothing_else(
    warehouse_scene: SceneGeometry, convert: str
) -> None:
    renderer = SceneRenderer(
        create_headless_gl(),
        warehouse_scene,
        W,
        H,
        dynamic_nodes=WAREHOUSE_NODES,
        convert="gpu" if convert == "gpu" else "cpu",
    )
    head = look_at((0.0, 1.6, 1.0), (2.5, 0.7, 7.0))
    try:
        shown = luma(renderer, head, None)
        hidden = luma(renderer, head, SceneState(hidden=frozenset({"gas_cylinder"})))
    finally:
        renderer.close()
    rows, cols = np.nonzero(np.abs(shown - hidden) > 2)
    low, high = warehouse_scene.node_bounds["gas_cylinder"]
    corners = [pixel(head, (x, y, z)) for x in (low[0], high[0]) for y in (low[1], high[1])
               for z in (low[2], high[2])]  # fmt: skip
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]

    assert len(rows) > 100
    assert cols.min() >= min(xs) - 2
    assert cols.max() <= max(xs) + 2
    assert rows.min() >= min(ys) - 2
    assert rows.max() <= max(ys) + 2


def test_an_offset_moves_the_coworker_the_way_it_projects(
    warehouse: SceneRenderer, warehouse_scene: SceneGeometry
) -> None:
    head = look_at((0.0, 1.6, 8.0), (-3.0, 1.0, 2.0))
    gone = SceneState(hidden=frozenset({"coworker"}))
    offset = (1.0, 0.0, 0.0)
    background = luma(warehouse, head, gone)
    here = np.nonzero(np.abs(luma(warehouse, head, None) - background) > 2)
    moved_state = SceneState(offsets={"coworker": offset})
    there = np.nonzero(np.abs(luma(warehouse, head, moved_state) - background) > 2)
    x, y, z = centre(warehouse_scene, "coworker")
    start, end = pixel(head, (x, y, z)), pixel(head, (x + offset[0], y, z))

    assert len(here[0]) > 50
    shift = float(there[1].mean() - here[1].mean())
    assert shift == pytest.approx(end[0] - start[0], rel=0.35)
    assert shift > 5  # world +x is to the right when looking down -z
    assert abs(float(there[0].mean() - here[0].mean())) < 0.35 * shift


def test_a_node_moved_from_behind_the_camera_into_view_is_drawn(
    warehouse: SceneRenderer,
) -> None:
    head = Pose((-3.0, 1.6, -1.0))  # looking down -z; the coworker stands 3 m behind
    hidden = luma(warehouse, head, SceneState(hidden=frozenset({"coworker"})))
    behind = luma(warehouse, head, None)
    in_front = luma(warehouse, head, SceneState(offsets={"coworker": (0.0, 0.0, -6.0)}))

    assert np.array_equal(behind, hidden)
    assert np.count_nonzero(np.abs(in_front - hidden) > 2) > 200


def test_hiding_a_parent_hides_the_dynamic_nodes_inside_it(
    warehouse_scene: SceneGeometry,
) -> None:
    nested = SceneRenderer(
        create_headless_gl(), warehouse_scene, W, H, dynamic_nodes=("coworker", "coworker_head")
    )
    head = look_at((0.0, 1.6, 8.0), (-3.0, 1.0, 2.0))
    try:
        shown = luma(nested, head, None)
        parent_hidden = luma(nested, head, SceneState(hidden=frozenset({"coworker"})))
        head_hidden = luma(nested, head, SceneState(hidden=frozenset({"coworker_head"})))
    finally:
        nested.close()
    body_and_head = np.count_nonzero(shown != parent_hidden)
    head_only = np.count_nonzero(shown != head_hidden)

    assert 0 < head_only < body_and_head


# ---------------------------------------------------------------- lights and fog


def test_the_alarm_light_lights_its_lens_and_the_wall_only_when_its_gain_is_up(
    warehouse: SceneRenderer, warehouse_scene: SceneGeometry
) -> None:
    head = look_at((0.0, 1.6, -5.0), (0.0, 3.3, -11.85))
    lit = luma(warehouse, head, SceneState(light_gains={"alarm_light": 1.0}))
    dark = luma(warehouse, head, SceneState(light_gains={"alarm_light": 0.0}))
    as_authored = luma(warehouse, head, None)
    col, row = (int(c) for c in pixel(head, centre(warehouse_scene, "alarm_light")))
    near = np.s_[max(row - 40, 0) : row + 40, max(col - 40, 0) : col + 40]

    assert lit[near].mean() > dark[near].mean() + 5
    assert np.count_nonzero(lit > dark + 2) > W * H * 0.05  # the wall it lights, not just the lens
    assert np.count_nonzero(dark > lit + 2) == 0
    assert np.array_equal(lit, as_authored)  # lit unless a scenario says otherwise


def test_scenario_fog_lowers_contrast_towards_smoke_grey(warehouse: SceneRenderer) -> None:
    head = look_at((0.0, 1.6, 6.0), (0.0, 1.6, -6.0))
    clear = luma(warehouse, head, None)
    smoky = luma(warehouse, head, SceneState(fog_density=0.6))
    thick = luma(warehouse, head, SceneState(fog_density=1.0))

    assert smoky.std() < clear.std() / 4
    assert abs(smoky.mean() - SMOKE_Y) < abs(clear.mean() - SMOKE_Y) * 0.6
    assert thick.std() < 1.0  # nothing in this view is nearer than 3 m but the floor
    assert thick.mean() == pytest.approx(SMOKE_Y, abs=2.0)


def test_light_bars_under_state_control_follow_the_state_not_their_pattern(
    street: SceneRenderer,
) -> None:
    head = look_at((0.0, 1.6, -2.0), (2.9, 1.6, -8.35))
    red_on = SceneState(light_gains={"light_bar_red": 1.0, "light_bar_blue": 0.0})
    at_red_flash = luma(street, head, red_on, t=0.05)
    at_blue_flash = luma(street, head, red_on, t=0.45)
    both_off = luma(street, head, SceneState(light_gains={"light_bar_red": 0.0}), t=0.05)
    pattern_red = luma(street, head, None, t=0.05)
    pattern_blue = luma(street, head, None, t=0.45)

    assert np.array_equal(at_red_flash, at_blue_flash)
    assert np.count_nonzero(at_red_flash != both_off) > 100
    assert np.count_nonzero(pattern_red != pattern_blue) > 100


def test_switching_the_streetlamp_off_darkens_the_street_under_it(street: SceneRenderer) -> None:
    head = look_at((2.0, 1.6, -10.0), (4.7, 0.0, -20.0))
    on = luma(street, head, None)
    off = luma(street, head, SceneState(light_gains={"streetlamp_3": 0.0}))

    assert on.mean() > off.mean() + 2


# ---------------------------------------------------------------- identity, stereo, errors


@pytest.mark.parametrize("t", [0.05, 0.45])
def test_no_state_and_an_empty_state_render_the_same_bytes(street: SceneRenderer, t: float) -> None:
    head = look_at((0.0, 1.6, -2.0), (2.9, 1.6, -8.35))
    none = street.render(RenderRequest(0, t, head=head)).i420.copy()
    empty = street.render(RenderRequest(0, t, head=head, state=SceneState())).i420

    np.testing.assert_array_equal(none, empty)


def test_no_state_and_an_empty_state_render_the_same_bytes_indoors(
    warehouse: SceneRenderer,
) -> None:
    head = look_at((0.0, 1.6, 8.0), (-3.0, 1.0, 2.0))
    none = warehouse.render(RenderRequest(0, 0.0, head=head)).i420.copy()
    empty = warehouse.render(RenderRequest(0, 0.0, head=head, state=SceneState())).i420

    np.testing.assert_array_equal(none, empty)


def test_names_the_renderer_was_not_built_for_are_ignored(warehouse: SceneRenderer) -> None:
    head = look_at((0.0, 1.6, 8.0), (-3.0, 1.0, 2.0))
    undeclared = SceneState(
        hidden=frozenset({"hall"}), offsets={"crates_1": (1.0, 0.0, 0.0)}, light_gains={"x": 0.0}
    )

    np.testing.assert_array_equal(luma(warehouse, head, None), luma(warehouse, head, undeclared))


def test_a_renderer_without_dynamic_nodes_renders_the_scene_as_before(
    sample_scene: SceneGeometry,
) -> None:
    head = look_at((0.0, 1.6, -2.0), (2.9, 1.6, -8.35))
    plain = SceneRenderer(create_headless_gl(), sample_scene, W, H)
    try:
        before = luma(plain, head, None, t=0.05)
    finally:
        plain.close()
    dynamic = SceneRenderer(
        create_headless_gl(), sample_scene, W, H, dynamic_lights=STREET_LIGHTS
    )  # one context at a time: GL calls go to the thread's current one
    try:
        with_dynamics = luma(dynamic, head, None, t=0.05)
    finally:
        dynamic.close()

    assert np.abs(before - with_dynamics).max() <= 1  # the same lights, summed in another order


def test_both_eyes_see_the_state(warehouse_scene: SceneGeometry) -> None:
    renderer = SceneRenderer(
        create_headless_gl(), warehouse_scene, 2 * W, H, stereo=True, dynamic_nodes=WAREHOUSE_NODES
    )
    head = look_at((0.0, 1.6, 1.0), (2.5, 0.7, 7.0))
    try:
        shown = renderer.render(RenderRequest(0, 0.0, head=head)).i420[:H].astype(np.int64)
        state = SceneState(hidden=frozenset({"gas_cylinder"}))
        hidden = renderer.render(RenderRequest(0, 0.0, head=head, state=state)).i420[:H]
    finally:
        renderer.close()
    changed = np.abs(shown - hidden) > 2

    assert np.count_nonzero(changed[:, :W]) > 50
    assert np.count_nonzero(changed[:, W:]) > 50


def test_the_factory_passes_dynamic_nodes_through_and_the_test_pattern_ignores_state() -> None:
    source = create_frame_source(
        "scene",
        W,
        H,
        scene_path=default_scene_path().with_name("warehouse.glb"),
        dynamic_nodes=WAREHOUSE_NODES,
        dynamic_lights=("alarm_light",),
    )
    head = look_at((0.0, 1.6, 1.0), (2.5, 0.7, 7.0))
    state = SceneState(hidden=frozenset({"gas_cylinder"}))
    try:
        shown = source.render(RenderRequest(0, 0.0, head=head)).i420.copy()
        hidden = source.render(RenderRequest(0, 0.0, head=head, state=state)).i420
        assert np.count_nonzero(shown != hidden) > 50
    finally:
        source.close()
    pattern = create_frame_source("test-pattern", W, H)
    plain = pattern.render(RenderRequest(0, 0.0)).i420.copy()
    assert np.array_equal(plain, pattern.render(RenderRequest(0, 0.0, state=state)).i420)
    pattern.close()


def test_an_unknown_node_is_refused_by_name_with_known_ones_listed(
    warehouse_scene: SceneGeometry,
) -> None:
    with pytest.raises(ValueError, match=r"'gas_cylindre'.*known nodes include: gas_cylinder"):
        SceneRenderer(create_headless_gl(), warehouse_scene, W, H, dynamic_nodes=["gas_cylindre"])
    with pytest.raises(ValueError, match=r"dynamic light 'siren'"):
        plan(warehouse_scene, [], dynamic_lights=["siren"])


def test_more_dynamic_nodes_than_slots_are_refused(warehouse_scene: SceneGeometry) -> None:
    names = sorted(warehouse_scene.node_bounds)
    assert len(names) > MAX_SLOTS

    with pytest.raises(ValueError, match=f"at most {MAX_SLOTS}"):
        plan(warehouse_scene, [], dynamic_nodes=names)


# ---------------------------------------------------------------- pure planning


def test_offsets_of_nested_dynamic_nodes_add_up(warehouse_scene: SceneGeometry) -> None:
    dynamics = plan(warehouse_scene, [], dynamic_nodes=["coworker", "coworker_head"])
    state = SceneState(offsets={"coworker": (1.0, 0.0, 0.0), "coworker_head": (0.0, 0.5, 0.0)})

    frame = resolve(dynamics, state, 0.0, 0.8)

    np.testing.assert_allclose(frame.offsets[1], (1.0, 0.0, 0.0))  # the body's slot
    np.testing.assert_allclose(frame.offsets[2], (1.0, 0.5, 0.0))  # the head's
    assert not frame.offsets[3:].any()
    body = warehouse_scene.node_names.index("coworker_body")
    head = warehouse_scene.node_names.index("coworker_head")
    assert set(dynamics.vertex_slot[warehouse_scene.vertex_node == body].tolist()) == {1}
    assert set(dynamics.vertex_slot[warehouse_scene.vertex_node == head].tolist()) == {2}


def test_a_switched_off_light_keeps_a_dim_lens_and_casts_nothing(
    warehouse_scene: SceneGeometry,
) -> None:
    lights = scene_lights(warehouse_scene, Look())
    dynamics = plan(
        warehouse_scene, lights, dynamic_nodes=["alarm_light"], dynamic_lights=["alarm_light"]
    )
    on = resolve(dynamics, None, 0.0, 0.8)
    off = resolve(dynamics, SceneState(light_gains={"alarm_light": 0.0}), 0.0, 0.8)
    hidden = resolve(dynamics, SceneState(hidden=frozenset({"alarm_light"})), 0.0, 0.8)

    assert on.glow[1] == 1.0
    assert on.channel_light[0].any()
    assert off.glow[1] == pytest.approx(LENS_OFF)
    assert not off.channel_light.any()
    assert not hidden.channel_light.any()  # a hidden lamp lights nothing either


def test_scenario_fog_density_is_clamped_to_0_to_1(warehouse_scene: SceneGeometry) -> None:
    dynamics = plan(warehouse_scene, [])

    assert resolve(dynamics, SceneState(fog_density=3.0), 0.0, 0.8).fog_density == 1.0
    assert resolve(dynamics, SceneState(fog_density=-1.0), 0.0, 0.8).fog_density == 0.0
