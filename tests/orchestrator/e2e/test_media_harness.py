"""The media-plane harness (`load_tests/media.py`) against `ixstream up`: two sessions,
two headless client processes, a JSON report with per-session fps and latencies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from load_tests import media
from orchestrator.identity import Role
from tests.orchestrator.conftest import UpProcess, api_token

pytestmark = pytest.mark.e2e


async def test_two_sessions_are_watched_and_reported_per_session(
    orchestrator_up: Callable[..., UpProcess],
) -> None:
    up = orchestrator_up(pool=1, max_sessions=2)
    report = await media.run(up.base_url, api_token("loader", Role.INSTRUCTOR), 2, 2.0, {})
    assert report["summary"]["clients_ok"] == 2, report
    assert len({s["session"] for s in report["sessions"]}) == 2
    for session in report["sessions"]:
        assert session["frames"] > 0
        assert session["fps"] > 0
        assert session["time_to_first_frame_ms"] is not None
        assert "p50" in session["motion_to_photon_ms"]
