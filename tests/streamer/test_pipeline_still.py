"""Skip-when-still (issue 12): a still scene is neither rendered nor encoded again.

The real frame pipeline with the real scene renderer (llvmpipe here), small frames.
Every check counts frames per clock tick, never time: while nothing changes the
ticks are skipped (no render, no encode) but for a sparse cheap repeat of the
last picture; when the head moves, every tick renders; the first frame made after
stillness carries the new pose; a keyframe request while still is answered
without rendering.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest

from ixstream.protocol import PoseSample, WirePose
from streamer.metrics import StreamerMetrics
from streamer.pipeline import FrameOut, FramePipeline, PipelineConfig
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)

FPS = 30
REPEAT_FPS = 3.0  # one repeat per ten ticks


class Harness:
    def __init__(self, pipeline: FramePipeline, metrics: StreamerMetrics) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        self.outs: list[FrameOut] = []
        self.seq = 0

    def count(self, name: str) -> float:
        labels = {"codec": "h264"} if name == "frames_encoded" else {}
        sample = f"ixstream_streamer_{name}_total"
        return self.metrics.registry.get_sample_value(sample, labels) or 0.0

    def shown(self, seq: int) -> bool:
        return any(out.applied.seq == seq for out in self.outs)

    def pose(self, yaw_rad: float) -> int:
        self.seq += 1
        q = (0.0, math.sin(yaw_rad / 2), 0.0, math.cos(yaw_rad / 2))
        sample = PoseSample(seq=self.seq, t=float(self.seq), head=WirePose(p=(0, 1.6, 0), q=q))
        assert self.pipeline.submit_pose(sample)
        return self.seq


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    metrics = StreamerMetrics()
    config = PipelineConfig(
        width=160, height=96, fps=FPS, codec="h264", bitrate_bps=500_000, stereo=False,
        source="scene", scene_path=None, allow_hardware_encoder=False,
        still_repeat_fps=REPEAT_FPS,
    )  # fmt: skip
    fatal: list[BaseException] = []
    loop = asyncio.get_running_loop()
    pipeline = FramePipeline(config, metrics, lambda out: None, fatal.append, loop)
    h = Harness(pipeline, metrics)
    pipeline._on_frame = h.outs.append
    pipeline.start()
    await asyncio.to_thread(pipeline.ready.wait, 60)
    pipeline.set_codecs({"h264"})
    pipeline.set_active(True)
    try:
        yield h
    finally:
        pipeline.stop()
        assert not fatal


@pytest.fixture(autouse=True)
def _warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample scene's police strobes flash with time: the warehouse has none."""
    from streamer.render import factory

    warehouse = factory.resolve_scene_path(factory.Path("warehouse.glb"))
    monkeypatch.setattr(factory, "default_scene_path", lambda: warehouse)


async def test_a_still_scene_is_not_rendered_and_only_sparsely_encoded(harness: Harness) -> None:
    await eventually(lambda: harness.count("frames_skipped") >= 1, 30, "a still tick")
    rendered, encoded = harness.count("frames_rendered"), harness.count("frames_encoded")
    skipped, repeated = harness.count("frames_skipped"), harness.count("frames_repeated")
    await eventually(lambda: harness.count("frames_skipped") >= skipped + 40, 60, "40 still ticks")
    ticks = (harness.count("frames_skipped") - skipped) + (
        harness.count("frames_repeated") - repeated
    )
    assert harness.count("frames_rendered") == rendered  # not one render while still
    new_encodes = harness.count("frames_encoded") - encoded
    assert new_encodes == harness.count("frames_repeated") - repeated
    # a repeat every FPS / REPEAT_FPS ticks (+1 for the tick in flight)
    assert new_encodes <= ticks * REPEAT_FPS / FPS + 1
    assert new_encodes >= 1  # the keep-alive does go out


async def test_a_moving_head_renders_every_tick(harness: Harness) -> None:
    rendered = harness.count("frames_rendered")
    for i in range(20):
        seq = harness.pose(0.01 * (i + 1))
        await eventually(lambda s=seq: harness.shown(s), 30, f"pose {seq} shown")
    assert harness.count("frames_rendered") - rendered >= 20


async def test_the_first_frame_after_stillness_carries_the_new_pose(harness: Harness) -> None:
    await eventually(lambda: harness.count("frames_skipped") >= 10, 30, "ten still ticks")
    before = len(harness.outs)
    seq = harness.pose(0.5)
    await eventually(lambda: any(o.applied.seq == seq for o in harness.outs[before:]), 30, "pose")
    made = harness.outs[before:]
    first = next(i for i, o in enumerate(made) if o.applied.seq == seq)
    assert first <= 1, "at most a repeat already in flight may come before the moved frame"
    assert made[first].render_s > 0.0  # rendered, not a repeat of the old picture
    assert made[first].applied.camera.orientation[1] == pytest.approx(math.sin(0.25))


async def test_a_keyframe_request_while_still_is_answered_without_rendering(
    harness: Harness,
) -> None:
    await eventually(lambda: harness.count("frames_skipped") >= 5, 30, "five still ticks")
    rendered = harness.count("frames_rendered")
    before = len(harness.outs)
    harness.pipeline.request_keyframe("viewer_joined")
    await eventually(
        lambda: any(o.encoded.keyframe for o in harness.outs[before:]), 30, "a keyframe"
    )
    assert harness.count("frames_rendered") == rendered
