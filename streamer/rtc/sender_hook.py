"""The one place that reaches into aiortc's RTCRtpSender (pinned to aiortc 1.16).

We encode once for every viewer and hand aiortc finished `av.Packet`s. aiortc
then only packetises, and its own feedback paths go nowhere (FIELD-NOTES trap
4): a keyframe request (PLI/FIR, RFC 4585 §6.3.1, RFC 5104 §4.3.1) sets a flag
that nothing reads, and a receiver estimate (REMB,
draft-alvestrand-rmcat-remb) is given to an encoder object that is only a
packetiser. This module routes both to our callbacks, notes when RTCP last
arrived (liveness: a receiver that vanished stops sending reports), and reads
the random RTP timestamp origin the sender picked (RFC 3550 §5.1), so the
`frames` channel can name each frame by the RTP timestamp the viewer sees.

`tests/streamer/rtc/test_sender_hook.py` pins the aiortc version and checks
every private name used here; update both together.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiortc
from aiortc import RTCRtpSender
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, unpack_remb_fci

SUPPORTED_AIORTC = ("1.16.0",)


class UnsupportedAiortcError(RuntimeError):
    """The installed aiortc is not one this hook was checked against."""


def check_aiortc_version() -> None:
    if aiortc.__version__ not in SUPPORTED_AIORTC:
        raise UnsupportedAiortcError(
            f"aiortc {aiortc.__version__} is not supported by streamer.rtc.sender_hook "
            f"(checked: {', '.join(SUPPORTED_AIORTC)}): re-check its private names first"
        )


@dataclass
class SenderFeedback:
    """What the hook observed on one sender."""

    last_rtcp_at: float | None = None  # time.monotonic() of the last RTCP packet
    keyframe_requests: int = 0
    last_remb_bps: int | None = None


def attach(
    sender: RTCRtpSender,
    on_keyframe_request: Callable[[], None],
    on_bitrate_estimate: Callable[[int], None],
) -> SenderFeedback:
    """Wraps `sender`'s RTCP handling so feedback reaches our shared encoder."""
    check_aiortc_version()
    feedback = SenderFeedback()
    original_handle: Callable[[Any], Awaitable[None]] = sender._handle_rtcp_packet
    original_keyframe: Callable[[], None] = sender._send_keyframe

    def send_keyframe() -> None:
        original_keyframe()
        feedback.keyframe_requests += 1
        on_keyframe_request()

    async def handle_rtcp_packet(packet: Any) -> None:
        feedback.last_rtcp_at = time.monotonic()
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                pass
            else:
                if sender._ssrc in ssrcs:
                    feedback.last_remb_bps = bitrate
                    on_bitrate_estimate(bitrate)
        await original_handle(packet)

    sender._send_keyframe = send_keyframe  # type: ignore[method-assign]
    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]
    return feedback


def rtp_timestamp_origin(sender: RTCRtpSender, last_pts_90khz: int) -> int | None:
    """The sender's random RTP timestamp origin, once it has sent a frame.

    aiortc stamps packets with `origin + pts` and keeps the last stamp it sent.
    Its send loop is serial (fetch a frame, send all its packets, fetch the
    next), so while the track is being asked for frame N, the last stamp sent
    belongs to frame N-1, whose pts the caller passes in.
    """
    if getattr(sender, "_RTCRtpSender__packet_count", 0) <= 0:
        return None
    last_stamp: int = sender._RTCRtpSender__rtp_timestamp  # type: ignore[attr-defined]
    return (last_stamp - last_pts_90khz) % (1 << 32)
