"""`ixstream client --warmup`: the figures cover the steady state, the start stays honest.

A benchmark that runs several viewers side by side (bench.cost's density) needs
each one's figures without its connection and first keyframe in them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ROOT, StreamerProcess

pytestmark = pytest.mark.e2e


def watch(streamer: StreamerProcess, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "ixstream", "client", streamer.whep_url,
         "--token", streamer.token(), "--json", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_warmup_leaves_the_first_seconds_out_of_the_figures(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    streamer = streamer_factory("--source", "test-pattern", "--fps", "30")
    report = watch(streamer, "--seconds", "1.0", "--warmup", "2.0")
    assert report["warmup_s"] == 2.0
    # Three seconds watched, one measured: at 30 fps about 30 frames, never the 90.
    assert 10 <= report["frames"] <= 50, report
    assert report["fps"] > 0
    # The start is the real one (connect → first frame), not the window's.
    assert report["time_to_first_frame_ms"] is not None
    assert report["time_to_first_frame_ms"] > 0
