"""End to end: a streaming session's CPU is accounted stage by stage on /metrics.

A real streamer and the headless client on loopback: after some frames every
stage of the frame's path (render, encode, the send path, data channels, the
event loop) has CPU time, and the stages add up to the process's CPU time.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ixclient.viewer import ViewerClient
from streamer.cpu import STAGES
from tests.conftest import StreamerProcess
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

STAGE_METRIC = "ixstream_streamer_stage_cpu_seconds_total"


async def test_every_stage_of_a_streamed_frame_has_cpu_time(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    streamer = streamer_factory(
        "--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30"
    )
    async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
        await viewer.wait_for_frame(timeout_s=20)
        await eventually(lambda: viewer.measure.frames >= 30, 30, "30 frames decoded")
    stages = {stage: streamer.metric(STAGE_METRIC, stage=stage) for stage in STAGES}
    process = streamer.metric("process_cpu_seconds_total")
    for stage in ("render", "encode", "pipeline", "send", "data_channels", "event_loop"):
        assert stages[stage] > 0.0, f"no CPU time billed to {stage}: {stages}"
    # Scraped twice, a moment apart, with /proc's 10 ms ticks: close, not equal.
    assert sum(stages.values()) == pytest.approx(process, rel=0.1, abs=0.2)
