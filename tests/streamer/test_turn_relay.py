"""Media through a real TURN server: coturn on loopback with short-lived TURN REST
credentials (the orchestrator's own minting), the streamer given the server through
its settings, and a viewer restricted to relay candidates, so every frame it decodes
crossed coturn. Also: expired credentials get no allocation and no video."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from ixclient.viewer import ViewerClient
from tests.conftest import StreamerProcess
from tests.turn import Coturn, IceServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def streamer_env(server: IceServer) -> dict[str, str]:
    return {"IXS_STREAMER_ICE_SERVERS": json.dumps([server.__dict__])}


async def test_video_flows_through_coturn_with_short_lived_credentials(
    streamer_factory: Callable[..., StreamerProcess], coturn: Coturn
) -> None:
    small = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30")
    streamer = streamer_factory(*small, env=streamer_env(coturn.server("pod-1")))
    viewer = ViewerClient(
        streamer.whep_url,
        token=streamer.token(),
        ice_servers=[coturn.server("session-1")],
        relay_only=True,
    )
    async with viewer:
        await viewer.wait_for_frame(timeout_s=30)
        report = await viewer.run(2.0)
        offered = viewer.offered_candidate_types()
    assert offered, "the viewer offered no candidates"
    assert set(offered) == {"relay"}  # so every decoded frame crossed coturn
    assert report["frames"] > 30
    assert coturn.allocations() >= 1  # the relay-only viewer's allocation, at least


async def test_expired_turn_credentials_get_no_relay(
    streamer_factory: Callable[..., StreamerProcess], coturn: Coturn
) -> None:
    small = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30")
    streamer = streamer_factory(*small)
    viewer = ViewerClient(
        streamer.whep_url,
        token=streamer.token(),
        ice_servers=[coturn.server("session-2", ttl_s=-60)],
        relay_only=True,
    )
    async with viewer:
        with pytest.raises(TimeoutError):
            await viewer.wait_for_frame(timeout_s=6)
    assert coturn.allocations() == 0
