"""The viewer cap holds under concurrency (issue 10).

Forty real aiortc offers posted at once with one session token: exactly
`max_viewers` (16, the default) get `201 Created`, the rest `503` with the
reason, the streamer reports 16 viewers, and once those leave a new viewer gets in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urljoin

import httpx
import pytest
from aiortc import RTCPeerConnection

from ixclient.viewer import ViewerClient
from ixstream.ice import configure_host_addresses, rtc_configuration
from tests.conftest import StreamerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

Factory = Callable[..., StreamerProcess]
SMALL = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "15")
OFFERS = 40
DEFAULT_CAP = 16


async def real_offer() -> tuple[RTCPeerConnection, str]:
    """A receive-only aiortc offer with every candidate gathered, as a WHEP player sends."""
    pc = RTCPeerConnection(rtc_configuration([]))
    pc.addTransceiver("video", direction="recvonly")
    pc.createDataChannel("frames")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_forty_concurrent_offers_with_one_token_get_exactly_the_cap(
    streamer_factory: Factory,
) -> None:
    streamer = streamer_factory(*SMALL)
    configure_host_addresses(["127.0.0.1"])
    peers = [await real_offer() for _ in range(OFFERS)]
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {streamer.token()}"}
    limits = httpx.Limits(max_connections=OFFERS)
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            responses = await asyncio.gather(
                *(client.post(streamer.whep_url, content=sdp, headers=headers) for _, sdp in peers)
            )
            accepted = [r for r in responses if r.status_code == 201]
            refused = [r for r in responses if r.status_code != 201]
            print(f"viewers accepted out of {OFFERS}: {len(accepted)}")
            assert len(accepted) == DEFAULT_CAP
            assert all(r.status_code == 503 for r in refused), {r.status_code for r in refused}
            assert all(f"session is full ({DEFAULT_CAP} viewers)" in r.text for r in refused)
            assert streamer.status()["viewers"] == DEFAULT_CAP
            for response in accepted:
                resource = urljoin(streamer.whep_url, response.headers["Location"])
                deleted = await client.delete(resource, headers=headers)
                assert deleted.status_code == 200
    finally:
        for pc, _ in peers:
            await pc.close()
    assert streamer.status()["viewers"] == 0
    async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
        await viewer.wait_for_frame(timeout_s=30)
        assert streamer.status()["viewers"] == 1


async def test_a_refused_offer_holds_no_slot(streamer_factory: Factory) -> None:
    """Malformed offers fail after the slot is reserved: the slot comes back each time."""
    streamer = streamer_factory(*SMALL)
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {streamer.token()}"}
    async with httpx.AsyncClient(timeout=30) as client:
        bad = await asyncio.gather(
            *(client.post(streamer.whep_url, content="v=0\r\n", headers=headers) for _ in range(40))
        )
    assert {r.status_code for r in bad} == {400}
    assert streamer.status()["viewers"] == 0
    async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
        await viewer.wait_for_frame(timeout_s=30)
