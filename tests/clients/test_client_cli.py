"""`ixstream client --warmup`: the figures cover the steady state, the start stays honest.

A benchmark that runs several viewers side by side (bench.cost's density) needs
each one's figures without its connection and first keyframe in them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.conftest import ROOT, StreamerProcess, headless_client

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


def client_cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "ixstream", "client", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_server_that_is_not_there_is_named_without_a_traceback() -> None:
    done = client_cli("http://127.0.0.1:9/whep", "--seconds", "1")
    assert done.returncode == 4
    assert "cannot reach http://127.0.0.1:9/whep" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_wrong_token_is_refused_in_words(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    streamer = streamer_factory("--source", "test-pattern", "--fps", "30")
    done = client_cli(streamer.whep_url, "--token", "not-a-token", "--seconds", "1")
    assert done.returncode == 3
    assert "the server refused the session: WHEP 401" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("option", ["--warmup", "--seconds", "--pose-hz"])
def test_a_negative_duration_or_rate_is_refused_before_connecting(option: str) -> None:
    done = client_cli("http://127.0.0.1:9/whep", option, "-3")
    assert done.returncode == 2
    assert option in done.stderr
    assert "cannot reach" not in done.stderr
