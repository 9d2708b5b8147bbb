"""`ixstream client --warmup`: the figures cover the steady state, the start stays honest.

A benchmark that runs several viewers side by side (bench.cost's density) needs
each one's figures without its connection and first keyframe in them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import StreamerProcess, headless_client

pytestmark = pytest.mark.e2e


def test_warmup_leaves_the_first_seconds_out_of_the_figures(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    streamer = streamer_factory("--source", "test-pattern", "--fps", "30")
    report = headless_client(
        streamer.whep_url, streamer.token(), "--seconds", "1.0", "--warmup", "2.0"
    )
    assert report["warmup_s"] == 2.0
    # Three seconds watched, one measured: at 30 fps about 30 frames, never the 90.
    assert 10 <= report["frames"] <= 50, report
    assert report["fps"] > 0
    # The start is the real one (connect → first frame), not the window's.
    assert report["time_to_first_frame_ms"] is not None
    assert report["time_to_first_frame_ms"] > 0
