"""Offer checks: a real aiortc offer passes; each kind of broken offer gets its reason."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver

from ixstream.ice import configure_host_addresses, rtc_configuration
from streamer.rtc.sdp_check import OfferError, check_offer


def make_offer(only_codec: str | None = None) -> str:
    async def make() -> str:
        configure_host_addresses(["127.0.0.1"])
        pc = RTCPeerConnection(rtc_configuration([]))
        transceiver = pc.addTransceiver("video", direction="recvonly")
        if only_codec is not None:
            caps = RTCRtpReceiver.getCapabilities("video").codecs
            transceiver.setCodecPreferences([c for c in caps if c.mimeType == only_codec])
        pc.createDataChannel("input")
        await pc.setLocalDescription(await pc.createOffer())
        sdp: str = pc.localDescription.sdp
        await pc.close()
        return sdp

    return asyncio.run(make())


@pytest.fixture(scope="module")
def offer() -> str:
    return make_offer()


def test_a_real_offer_passes(offer: str) -> None:
    summary = check_offer(offer)
    assert summary.has_data_channels
    assert "video/H264" in summary.codecs
    assert "video/VP8" in summary.codecs


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda s: "", "empty"),
        (lambda s: "hello world", "v=0"),
        (lambda s: s.replace("a=recvonly", "a=sendonly"), "direction"),
        (lambda s: s.split("m=video")[0], "no video"),
        (
            lambda s: "\r\n".join(
                line for line in s.split("\r\n") if not line.startswith("a=ice-ufrag")
            ),
            "ice-ufrag",
        ),
        (
            lambda s: "\r\n".join(
                line for line in s.split("\r\n") if not line.startswith("a=fingerprint")
            ),
            "fingerprint",
        ),
        (lambda s: re.sub(r"m=video \d+", "m=video nine", s), "unparsable"),
        (lambda s: s.replace("a=rtpmap:", "a=rtpmap"), "unparsable"),
    ],
)
def test_broken_offers_are_refused_with_a_reason(offer: str, mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OfferError, match=reason):
        check_offer(mutate(offer))


def test_an_offer_without_the_sessions_codec_is_well_formed() -> None:
    # Which codec it gets is codec_choice's decision (test_codec_choice.py), not a 400.
    summary = check_offer(make_offer("video/VP8"))
    assert summary.codecs == ("video/VP8",)
