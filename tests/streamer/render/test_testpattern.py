"""TestPattern: deterministic I420 frames whose content proves frame id and head pose arrived."""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt
import pytest

from ixstream.pose import Pose
from streamer.render.source import RenderRequest
from streamer.render.testpattern import (
    BAR_PERIOD_PX,
    BAR_STEP_PX,
    FRAME_ID_BITS,
    Y_BLACK,
    Y_BRIGHT,
    Y_DARK,
    Y_WHITE,
    TestPattern,
    head_angles,
)

W, H = 320, 240


def turned(yaw_deg: float = 0.0, pitch_deg: float = 0.0) -> Pose:
    """Yaw about +y, then pitch about the turned x axis."""
    y, p = math.radians(yaw_deg) / 2, math.radians(pitch_deg) / 2
    qy = np.array([0.0, math.sin(y), 0.0, math.cos(y)])
    qp = np.array([math.sin(p), 0.0, 0.0, math.cos(p)])
    x1, y1, z1, w1 = qy
    x2, y2, z2, w2 = qp
    q = (
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
    )
    return Pose(orientation=(float(q[0]), float(q[1]), float(q[2]), float(q[3])))


def block_centre(luma: npt.NDArray[np.uint8]) -> tuple[float, float]:
    """Centre of the white pose block, ignoring the frame-id strip along the top."""
    below_strip = luma[32:]
    rows, cols = np.nonzero(below_strip == Y_WHITE)
    return float(cols.mean()), float(rows.mean()) + 32


def luma(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return frame[:H]


def read_frame_id(frame: npt.NDArray[np.uint8], width: int) -> int:
    cell = max(2, min(16, width // FRAME_ID_BITS))
    bits = [int(frame[cell // 2, bit * cell + cell // 2] > 128) for bit in range(FRAME_ID_BITS)]
    return int("".join(map(str, bits)), 2)


def test_frames_have_the_i420_shape_and_type() -> None:
    frame = TestPattern(W, H).render(RenderRequest(frame_id=0, scene_time_s=0.0))

    assert frame.i420.shape == (H * 3 // 2, W)
    assert frame.i420.dtype == np.uint8
    assert frame.i420.flags.c_contiguous
    assert (frame.width, frame.height) == (W, H)


BAR_ROW = 60  # below the frame-id strip (16 px) and above the pose block (y 100..140)


def test_the_picture_is_the_pattern_bars_block_and_frame_id_at_known_pixels() -> None:
    frame_id = 0b1010_0000_0000_0001
    pattern = TestPattern(W, H)
    y, u, v = pattern.planes(pattern.render(RenderRequest(frame_id, scene_time_s=0.0)).i420)

    # Bars: dark then bright, half a period each, shifted by the frame's step.
    shift, half = frame_id * BAR_STEP_PX, BAR_PERIOD_PX // 2
    bars = [Y_BRIGHT if ((x + shift) // half) % 2 else Y_DARK for x in range(W)]
    assert y[BAR_ROW].tolist() == bars
    # The pose block: white and colourless, centred for a head looking straight ahead.
    size = H // 6
    top, left = (H - size) // 2, (W - size) // 2
    assert np.all(y[top : top + size, left : left + size] == Y_WHITE)
    assert np.all(u[top // 2 : (top + size) // 2, left // 2 : (left + size) // 2] == 128)
    assert np.all(v[top // 2 : (top + size) // 2, left // 2 : (left + size) // 2] == 128)
    assert y[top - 1, left] != Y_WHITE  # and no bigger
    assert y[top, left - 1] != Y_WHITE
    # The frame id strip: first cell white (1), second black (0).
    assert (y[8, 8], y[8, 24]) == (Y_WHITE, Y_BLACK)
    # Chroma outside the block: neutral U, V tinted by the frame id.
    assert (u[BAR_ROW // 2, 0], v[BAR_ROW // 2, 0]) == (128, 96 + (frame_id * 2) % 64)


def test_the_bars_step_left_by_their_step_from_one_frame_to_the_next() -> None:
    pattern = TestPattern(W, H)
    rows = [
        pattern.render(RenderRequest(frame_id=i, scene_time_s=0.0)).i420[BAR_ROW].copy()
        for i in range(2)
    ]

    assert not np.array_equal(rows[0], rows[1])
    np.testing.assert_array_equal(rows[1][: W - BAR_STEP_PX], rows[0][BAR_STEP_PX:])
    # the first dark-to-bright edge moved from x = 32 to x = 28
    assert (rows[0][31], rows[0][32]) == (Y_DARK, Y_BRIGHT)
    assert (rows[1][27], rows[1][28]) == (Y_DARK, Y_BRIGHT)


def test_the_same_request_gives_the_same_bytes() -> None:
    request = RenderRequest(frame_id=7, scene_time_s=0.1, head=turned(30.0, 10.0))

    first = TestPattern(W, H).render(request).i420.copy()
    second = TestPattern(W, H).render(request).i420

    np.testing.assert_array_equal(first, second)


def test_consecutive_frames_differ_so_a_frozen_stream_shows() -> None:
    source = TestPattern(W, H)

    first = source.render(RenderRequest(frame_id=1, scene_time_s=0.0)).i420.copy()
    second = source.render(RenderRequest(frame_id=2, scene_time_s=0.0)).i420

    assert np.count_nonzero(first[40:H] != second[40:H]) > W * 10


def test_the_frame_id_can_be_read_back_from_the_picture() -> None:
    frame = TestPattern(W, H).render(RenderRequest(frame_id=0xBEEF, scene_time_s=0.0)).i420

    assert read_frame_id(frame, W) == 0xBEEF


def test_turning_the_head_left_moves_the_block_left() -> None:
    source = TestPattern(W, H)

    ahead = block_centre(luma(source.render(RenderRequest(0, 0.0, head=turned(0.0))).i420))
    left = block_centre(luma(source.render(RenderRequest(0, 0.0, head=turned(60.0))).i420))

    assert left[0] < ahead[0] - 20
    assert left[1] == pytest.approx(ahead[1], abs=1)


def test_looking_up_moves_the_block_up() -> None:
    source = TestPattern(W, H)

    ahead = block_centre(luma(source.render(RenderRequest(0, 0.0, head=turned(0.0))).i420))
    up = block_centre(luma(source.render(RenderRequest(0, 0.0, head=turned(0.0, 30.0))).i420))

    assert up[1] < ahead[1] - 10
    assert up[0] == pytest.approx(ahead[0], abs=1)


def test_head_angles_read_yaw_and_pitch_from_a_quaternion() -> None:
    yaw, pitch = head_angles(turned(45.0, -20.0))

    assert math.degrees(yaw) == pytest.approx(45.0, abs=1e-4)
    assert math.degrees(pitch) == pytest.approx(-20.0, abs=1e-4)


def test_stereo_draws_the_block_in_both_eyes() -> None:
    frame = TestPattern(2 * W, H, stereo=True).render(RenderRequest(0, 0.0)).i420

    left_x, _ = block_centre(frame[:H, :W])
    right_x, _ = block_centre(frame[:H, W:])

    assert left_x == pytest.approx(right_x)


def test_a_frame_stays_valid_while_two_more_are_rendered() -> None:
    source = TestPattern(W, H)
    first = source.render(RenderRequest(frame_id=1, scene_time_s=0.0)).i420
    kept = first.copy()

    source.render(RenderRequest(frame_id=2, scene_time_s=0.0))
    source.render(RenderRequest(frame_id=3, scene_time_s=0.0))

    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize(("width", "height"), [(321, 240), (320, 241), (0, 240)])
def test_sizes_i420_cannot_hold_are_refused(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="positive, even"):
        TestPattern(width, height)


def test_a_720p_frame_costs_about_a_millisecond() -> None:
    source = TestPattern(1280, 720)
    timings = []
    for i in range(30):
        started = time.perf_counter()
        source.render(RenderRequest(frame_id=i, scene_time_s=0.0))
        timings.append(time.perf_counter() - started)

    # the budget is 1 ms; the margin absorbs neighbours on a shared 2-core CI machine
    assert float(np.median(timings)) < 0.003
