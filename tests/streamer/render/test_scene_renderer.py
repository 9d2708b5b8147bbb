"""SceneRenderer on the real GL stack (llvmpipe here, NVIDIA EGL on a GPU pod).

Covers: frames of the sample scene are real pictures; head pose and scene time
change them; stereo renders two different eyes; the GPU's I420 conversion
matches a BT.709 reference and flat colours land on their expected YUV; the
image is upright; sizes the packing cannot hold are refused; the pure helpers
(strobe timing, light falloff, draw order). Frames are 320x240 to stay fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ixstream.pose import Pose
from streamer.render.egl import create_headless_gl
from streamer.render.gltf import SceneGeometry, load_scene
from streamer.render.lighting import Look, PointLight, point_light_factor, strobe_gains
from streamer.render.scene import SceneRenderer, check_frame_size, draw_order
from streamer.render.source import RenderRequest

W, H = 320, 240
U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
BT709_Y = np.array([0.2126, 0.7152, 0.0722])
BT709_U = np.array([-0.2126, -0.7152, 0.9278]) / 1.8556
BT709_V = np.array([0.7874, -0.7152, -0.0722]) / 1.5748
UNLIT = Look(
    sky=(0.8, 0.2, 0.4),
    fog_density_per_m=0.0,
    moon_colour=(0.0, 0.0, 0.0),
    ambient_sky=(0.0, 0.0, 0.0),
    ambient_ground=(0.0, 0.0, 0.0),
)


def yaw(degrees: float) -> Pose:
    half = math.radians(degrees) / 2
    return Pose(orientation=(0.0, math.sin(half), 0.0, math.cos(half)))


def planes(frame: U8, width: int, height: int) -> tuple[U8, U8, U8]:
    flat = frame.reshape(-1)
    y = flat[: width * height].reshape(height, width)
    u = flat[width * height : width * height * 5 // 4].reshape(height // 2, width // 2)
    v = flat[width * height * 5 // 4 :].reshape(height // 2, width // 2)
    return y, u, v


def bt709_reference(rgba_bottom_up: U8) -> tuple[F64, F64, F64]:
    """I420 planes (unrounded) from RGBA as GL stores it, the textbook way."""
    rgb = rgba_bottom_up[::-1, :, :3].astype(np.float64) / 255.0
    h, w = rgb.shape[:2]
    blocks = rgb.reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))
    return 16 + 219 * rgb @ BT709_Y, 128 + 224 * blocks @ BT709_U, 128 + 224 * blocks @ BT709_V


def expected_yuv(display_rgb: tuple[float, float, float]) -> F64:
    rgb8 = np.round(np.asarray(display_rgb) * 255.0) / 255.0
    return np.array(
        [16 + 219 * rgb8 @ BT709_Y, 128 + 224 * rgb8 @ BT709_U, 128 + 224 * rgb8 @ BT709_V]
    )


@pytest.fixture(scope="module")
def mono(sample_scene: SceneGeometry) -> Iterator[SceneRenderer]:
    renderer = SceneRenderer(create_headless_gl(), sample_scene, W, H)
    yield renderer
    renderer.close()


@pytest.fixture(scope="module")
def floor(floor_scene_path: Path) -> Iterator[SceneRenderer]:
    renderer = SceneRenderer(create_headless_gl(), load_scene(floor_scene_path), W, H, look=UNLIT)
    yield renderer
    renderer.close()


# ---------------------------------------------------------------- the sample scene


def test_a_frame_of_the_sample_scene_is_a_real_picture(mono: SceneRenderer) -> None:
    frame = mono.render(RenderRequest(frame_id=0, scene_time_s=0.0))
    y, u, v = planes(frame.i420, W, H)

    assert frame.i420.shape == (H * 3 // 2, W)
    assert frame.i420.flags.c_contiguous
    assert y.std() > 10
    assert len(np.unique(y)) > 60
    assert y.min() >= 16
    assert y.max() <= 235
    assert min(u.min(), v.min()) >= 16
    assert max(u.max(), v.max()) <= 240
    assert frame.render_s > 0
    assert frame.convert_s > 0


def test_turning_the_head_90_degrees_changes_most_of_the_image(mono: SceneRenderer) -> None:
    ahead = mono.render(RenderRequest(0, 0.0, head=yaw(0.0))).i420[:H].astype(int)
    left = mono.render(RenderRequest(0, 0.0, head=yaw(90.0))).i420[:H].astype(int)

    changed = np.abs(ahead - left) > 8

    assert changed.mean() > 0.5


def test_the_police_lights_change_the_picture_without_head_motion(mono: SceneRenderer) -> None:
    red = mono.render(RenderRequest(0, scene_time_s=0.05)).i420.copy()
    blue = mono.render(RenderRequest(1, scene_time_s=0.45)).i420

    assert np.count_nonzero(red != blue) > 100


def test_the_same_request_renders_the_same_frame(mono: SceneRenderer) -> None:
    request = RenderRequest(3, 1.25, head=yaw(20.0))

    first = mono.render(request).i420.copy()
    second = mono.render(request).i420

    np.testing.assert_array_equal(first, second)


def test_a_frame_stays_valid_while_two_more_are_rendered(mono: SceneRenderer) -> None:
    first = mono.render(RenderRequest(0, 0.0, head=yaw(0.0))).i420
    kept = first.copy()

    mono.render(RenderRequest(1, 0.0, head=yaw(120.0)))
    mono.render(RenderRequest(2, 0.0, head=yaw(240.0)))

    np.testing.assert_array_equal(first, kept)


def test_the_gpu_conversion_matches_a_bt709_reference(sample_scene: SceneGeometry) -> None:
    renderer = SceneRenderer(create_headless_gl(), sample_scene, W, H, convert="gpu")
    frame = renderer.render(RenderRequest(0, 0.05, head=yaw(10.0)))
    reference = bt709_reference(renderer.read_rgba())
    renderer.close()

    for plane, expected in zip(planes(frame.i420, W, H), reference, strict=True):
        assert np.abs(plane - expected).max() <= 1.5


def test_the_cpu_conversion_matches_a_bt709_reference(sample_scene: SceneGeometry) -> None:
    renderer = SceneRenderer(create_headless_gl(), sample_scene, W, H, convert="cpu")
    frame = renderer.render(RenderRequest(0, 0.05, head=yaw(10.0)))
    reference = bt709_reference(renderer.read_rgba()[::-1])  # this path reads back top-down
    renderer.close()

    y, u, v = planes(frame.i420, W, H)
    assert np.abs(y - reference[0]).max() <= 1.5
    for plane, expected in ((u, reference[1]), (v, reference[2])):  # swscale's chroma filter
        assert np.abs(plane - expected).mean() <= 1.0  # differs from a box at edges only


def test_stereo_renders_two_different_eyes_of_the_same_scene(sample_scene: SceneGeometry) -> None:
    renderer = SceneRenderer(create_headless_gl(), sample_scene, 2 * W, H, stereo=True)
    try:
        y = renderer.render(RenderRequest(0, 0.0)).i420[:H].astype(int)
    finally:
        renderer.close()
    left, right = y[:, :W], y[:, W:]

    assert left.std() > 10
    assert right.std() > 10
    assert np.count_nonzero(left != right) > W * H * 0.05
    assert abs(left.mean() - right.mean()) < 10  # the same street, seen 64 mm apart


def test_multisampling_smooths_edges_without_moving_them(sample_scene: SceneGeometry) -> None:
    renderer = SceneRenderer(create_headless_gl(), sample_scene, W, H, samples=4)
    try:
        smooth = renderer.render(RenderRequest(0, 0.0)).i420[:H].astype(int)
    finally:
        renderer.close()
    plain = SceneRenderer(create_headless_gl(), sample_scene, W, H)
    try:
        aliased = plain.render(RenderRequest(0, 0.0)).i420[:H].astype(int)
    finally:
        plain.close()
    difference = np.abs(smooth - aliased)

    assert np.count_nonzero(difference) > 100  # edges were resolved from 4 samples
    assert difference.mean() < 3  # but it is the same picture


def test_the_renderer_describes_itself_by_the_gl_renderer_string(
    sample_scene: SceneGeometry,
) -> None:
    gl = create_headless_gl()
    renderer = SceneRenderer(gl, sample_scene, W, H)
    try:
        assert renderer.description == gl.ctx.info["GL_RENDERER"]
        assert renderer.description
    finally:
        renderer.close()


def test_rendering_after_close_is_refused(sample_scene: SceneGeometry) -> None:
    renderer = SceneRenderer(create_headless_gl(), sample_scene, W, H)
    renderer.close()
    renderer.close()  # idempotent

    with pytest.raises(RuntimeError, match="closed"):
        renderer.render(RenderRequest(0, 0.0))


# ---------------------------------------------------------------- flat colours and orientation


def test_flat_colours_convert_to_their_bt709_yuv(
    floor: SceneRenderer, floor_emissive: tuple[float, float, float]
) -> None:
    y, u, v = planes(floor.render(RenderRequest(0, 0.0)).i420, W, H)
    floor_display = tuple(c ** (1 / 2.2) for c in floor_emissive)

    sky = expected_yuv(UNLIT.sky)
    ground = expected_yuv((floor_display[0], floor_display[1], floor_display[2]))

    np.testing.assert_allclose([y[:40].mean(), u[:20].mean(), v[:20].mean()], sky, atol=1.0)
    np.testing.assert_allclose([y[-40:].mean(), u[-20:].mean(), v[-20:].mean()], ground, atol=1.5)
    assert y[:40].std() < 0.6
    assert y[-40:].std() < 0.6


def test_the_image_is_upright_with_sky_on_top(floor: SceneRenderer) -> None:
    y = floor.render(RenderRequest(0, 0.0)).i420[:H].astype(float)
    sky_y = expected_yuv(UNLIT.sky)[0]

    assert abs(y[0].mean() - sky_y) < 1.5
    assert abs(y[-1].mean() - sky_y) > 30


def test_looking_down_fills_the_view_with_floor(floor: SceneRenderer) -> None:
    half = math.radians(-80.0) / 2
    down = Pose(orientation=(math.sin(half), 0.0, 0.0, math.cos(half)))

    y = floor.render(RenderRequest(0, 0.0, head=down)).i420[:H].astype(float)

    assert abs(y.mean() - y[-1].mean()) < 1.5


# ---------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(("width", "height"), [(324, 240), (320, 242), (320, 0)])
def test_sizes_the_i420_packing_cannot_hold_are_refused(width: int, height: int) -> None:
    with pytest.raises(ValueError, match=r"positive|divisible"):
        check_frame_size(width, height)


def test_the_strobes_flash_red_then_blue() -> None:
    assert strobe_gains(0.05, 0.8) == (1.0, 0.08)
    assert strobe_gains(0.45, 0.8) == (0.08, 1.0)
    assert strobe_gains(0.2, 0.8) == (0.08, 0.08)  # between the double flashes
    assert strobe_gains(0.85, 0.8) == strobe_gains(0.05, 0.8)


def test_a_point_light_fades_to_nothing_at_its_range() -> None:
    light = PointLight(position=(0.0, 5.0, 0.0), colour=(1.0, 1.0, 1.0), range_m=10.0, strobe=0)
    up = np.array([[0.0, 1.0, 0.0]] * 3, dtype=np.float32)
    points = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 8.0], [0.0, 0.0, 20.0]], dtype=np.float32)

    near, farther, beyond = point_light_factor(points, up, light)

    assert near == pytest.approx((1 - 25 / 100) ** 2 / 25)
    assert 0 < farther < near
    assert beyond == 0


def test_small_nodes_are_drawn_before_large_ones(sample_scene: SceneGeometry) -> None:
    order = draw_order(sample_scene)
    nodes_in_order = dict.fromkeys(sample_scene.vertex_node[order].tolist())
    diagonals = [
        float(np.linalg.norm(np.subtract(*sample_scene.node_bounds[sample_scene.node_names[i]])))
        for i in nodes_in_order
    ]

    assert sorted(order.tolist()) == list(range(len(sample_scene.positions)))
    assert diagonals == sorted(diagonals)
    assert sample_scene.node_names[next(iter(nodes_in_order))] != "road"
