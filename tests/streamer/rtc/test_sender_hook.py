"""The aiortc sender hook, pinned to the aiortc version it was checked against.

Real aiortc objects and real RTCP packets: a PLI and a FIR reach our keyframe
callback, a REMB naming our SSRC reaches the bitrate callback (one naming
another SSRC does not), aiortc's own handling still runs, and the private
attributes we read exist. The end-to-end PLI path is in test_stream_e2e.py.
"""

from __future__ import annotations

import aiortc
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RtcpPsfbPacket,
    pack_remb_fci,
)

from streamer.rtc import sender_hook


@pytest.fixture
async def sender() -> RTCRtpSender:
    pc = RTCPeerConnection()
    transceiver = pc.addTransceiver("video", direction="sendonly")
    yield transceiver.sender
    await pc.close()


def test_the_installed_aiortc_is_the_pinned_one() -> None:
    assert aiortc.__version__ in sender_hook.SUPPORTED_AIORTC
    sender_hook.check_aiortc_version()


def test_the_private_names_the_hook_uses_exist(sender: RTCRtpSender) -> None:
    for name in ("_handle_rtcp_packet", "_send_keyframe", "_ssrc"):
        assert hasattr(sender, name), name
    assert sender._RTCRtpSender__packet_count == 0  # type: ignore[attr-defined]
    assert sender._RTCRtpSender__rtp_timestamp == 0  # type: ignore[attr-defined]
    assert sender_hook.rtp_timestamp_origin(sender, 1234) is None  # nothing sent yet


@pytest.mark.parametrize("fmt", [RTCP_PSFB_PLI, RTCP_PSFB_FIR])
async def test_keyframe_requests_reach_the_callback(sender: RTCRtpSender, fmt: int) -> None:
    requests: list[int] = []
    feedback = sender_hook.attach(sender, lambda: requests.append(1), lambda bps: None)
    await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=sender._ssrc))
    assert requests == [1]
    assert feedback.keyframe_requests == 1
    assert feedback.last_rtcp_at is not None
    assert sender._RTCRtpSender__force_keyframe  # type: ignore[attr-defined]  # aiortc's own path ran


async def test_a_remb_for_our_ssrc_reaches_the_bitrate_callback(sender: RTCRtpSender) -> None:
    estimates: list[int] = []
    sender_hook.attach(sender, lambda: None, estimates.append)
    ours = pack_remb_fci(2_500_000, [sender._ssrc])
    theirs = pack_remb_fci(100_000, [sender._ssrc ^ 1])
    await sender._handle_rtcp_packet(
        RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0, fci=ours)
    )
    await sender._handle_rtcp_packet(
        RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0, fci=theirs)
    )
    assert len(estimates) == 1
    assert estimates[0] == pytest.approx(2_500_000, rel=0.01)  # REMB mantissa/exponent rounding


async def test_a_garbled_remb_is_ignored(sender: RTCRtpSender) -> None:
    estimates: list[int] = []
    sender_hook.attach(sender, lambda: None, estimates.append)
    await sender._handle_rtcp_packet(
        RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0, fci=b"junk")
    )
    assert estimates == []
