"""`ixstream stream --host-sessions`: the thread budget's input, refused precisely when wrong."""

from __future__ import annotations

import subprocess
import sys

from streamer.settings import StreamerSettings
from tests.conftest import ROOT


def test_a_host_shared_by_no_sessions_is_refused_with_the_reason() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ixstream", "stream", "--no-auth", "--host-sessions", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid settings" in done.stderr
    assert "host_sessions" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_setting_defaults_to_a_host_of_its_own() -> None:
    assert StreamerSettings(jwt_secret="x" * 32).host_sessions == 1
