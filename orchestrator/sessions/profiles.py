"""From what a caller asks for to the streamer it needs.

Pure functions of the settings and the scenario catalogue, so the app can compute the
warm pool's profile (the default spec's) before any session service exists.
"""

from __future__ import annotations

from ixstream.bitrate import default_bitrate_kbps
from orchestrator.backends.base import StreamerProfile
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.sessions.models import SessionSpec
from orchestrator.settings import OrchestratorSettings


def default_spec(settings: OrchestratorSettings) -> SessionSpec:
    """What a request that names nothing gets, and what warm streamers are started for."""
    return SessionSpec(
        scenario=settings.default_scenario,
        client="browser",
        width=settings.default_width,
        height=settings.default_height,
        fps=settings.default_fps,
        codec=None,
    )


def profile_for(
    spec: SessionSpec, settings: OrchestratorSettings, catalogue: ScenarioCatalogue
) -> StreamerProfile:
    """The streamer a spec needs; raises `UnknownScenarioError`."""
    scenario = catalogue.get(spec.scenario)
    return StreamerProfile(
        source=scenario.source,
        scene=scenario.scene,
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        codec=spec.codec or settings.default_codec,
        stereo=spec.client == "headset",
        bitrate_kbps=settings.bitrate_kbps
        or default_bitrate_kbps(spec.width, spec.height, spec.fps),
    )
