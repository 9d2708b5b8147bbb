"""The bitrate ceiling follows the stream's pixel rate unless an operator sets one
(`ixstream/bitrate.py`, issue 12): in the streamer's settings and in the profile the
orchestrator gives each session's streamer."""

from __future__ import annotations

import pytest

from ixstream.bitrate import MAX_CEILING_KBPS, MIN_CEILING_KBPS, default_bitrate_kbps
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.sessions.models import SessionSpec
from orchestrator.sessions.profiles import profile_for
from orchestrator.settings import OrchestratorSettings
from streamer.settings import StreamerSettings

KEY = "k" * 32


@pytest.mark.parametrize(
    ("width", "height", "fps", "kbps"),
    [
        (1280, 720, 30, 2488),  # libwebrtc's 2.5 Mbps for a 720p camera
        (1280, 720, 60, 4977),
        (1920, 1080, 60, 11197),
        (2560, 1440, 72, 23888),  # a stereo headset frame
        (320, 240, 15, MIN_CEILING_KBPS),
        (7680, 4320, 144, MAX_CEILING_KBPS),
    ],
)
def test_the_ceiling_grows_with_size_and_rate_within_bounds(
    width: int, height: int, fps: int, kbps: int
) -> None:
    assert default_bitrate_kbps(width, height, fps) == kbps


def test_the_streamer_derives_its_ceiling_unless_one_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def settings(**given: int) -> StreamerSettings:
        return StreamerSettings.model_validate(
            {"width": 1280, "height": 720, "jwt_secret": KEY, **given}
        )

    assert settings(fps=30).bitrate_ceiling_kbps == 2488
    assert settings(fps=60).bitrate_ceiling_kbps == 4977
    assert settings(fps=30, bitrate_kbps=8000).bitrate_ceiling_kbps == 8000
    monkeypatch.setenv("IXS_STREAMER_BITRATE_KBPS", "6000")
    assert settings(fps=30).bitrate_ceiling_kbps == 6000


def test_each_sessions_streamer_gets_the_ceiling_of_its_own_size_and_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IXS_ORCH_BITRATE_KBPS", raising=False)
    catalogue = ScenarioCatalogue(None)  # the built-in scenarios
    scenario = catalogue.all()[0].name
    desktop = SessionSpec(scenario, "browser", 1280, 720, 30, codec=None)
    headset = SessionSpec(scenario, "headset", 2560, 1440, 72, codec=None)
    derived = OrchestratorSettings(mode="dev")
    assert profile_for(desktop, derived, catalogue).bitrate_kbps == 2488
    assert profile_for(headset, derived, catalogue).bitrate_kbps == 23888
    fixed = OrchestratorSettings(mode="dev", bitrate_kbps=8000)
    assert profile_for(desktop, fixed, catalogue).bitrate_kbps == 8000
