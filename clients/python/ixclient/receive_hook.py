"""The one place the client reaches into aiortc's receiver (pinned to aiortc 1.16).

aiortc's jitter buffer releases a video frame only when the first packet of
the *next* frame arrives (FIELD-NOTES trap 8): one whole frame interval (16.7
ms at 60 fps) of latency that browsers don't add. A frame is complete when
its packets are contiguous from the buffer's origin and the last one carries
the RTP marker bit (RFC 6184 §5.1 for H.264, RFC 7741 §4.1 for VP8), so
release it then. Packets missing before the marker still hold the frame back,
exactly as before.

aiortc also rebases decoded frames' timestamps to start at zero. The `frames`
channel names frames by their RTP timestamp on the wire (as a browser's
requestVideoFrameCallback reports it), so the client keeps the wire value,
only unwrapped past 2**32.
"""

from __future__ import annotations

import aiortc
import aiortc.rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

SUPPORTED_AIORTC = ("1.16.0",)


class MarkerJitterBuffer(JitterBuffer):
    """Releases a video frame as soon as its marker packet completes it."""

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        if not self._is_video or self._prefetch:
            frame: JitterFrame | None = super()._remove_frame(sequence_number)
            return frame
        packets: list[RtpPacket] = []
        timestamp: int | None = None
        origin = self._origin
        if origin is None:
            return None
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self._capacity]
            if packet is None:
                return None
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:  # marker lost: fall back to the next frame
                return self._release(packets, timestamp, count)
            packets.append(packet)
            if packet.marker:
                return self._release(packets, timestamp, count + 1)
        return None

    def _release(self, packets: list[RtpPacket], timestamp: int, count: int) -> JitterFrame:
        # `_data` is the depayloaded payload aiortc's receiver sets on each packet.
        data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
        frame = JitterFrame(data=data, timestamp=timestamp)
        self.remove(count)
        return frame


class WireTimestampMapper:
    """Keeps RTP timestamps as sent, unwrapped so they never go backwards."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._wraps = 0

    def map(self, timestamp: int) -> int:
        if self._last is not None and timestamp < self._last and self._last - timestamp > 1 << 31:
            self._wraps += 1
        self._last = timestamp
        return timestamp + (self._wraps << 32)


def install(marker_release: bool = True) -> None:
    """Makes receivers created from now on keep wire timestamps and, unless
    `marker_release` is False (the stock behaviour, a benchmark's baseline),
    use the marker-aware buffer. Process-wide: call it right before creating
    the peer connection's transceivers, with no await in between."""
    if aiortc.__version__ not in SUPPORTED_AIORTC:
        raise RuntimeError(
            f"ixclient.receive_hook was checked against aiortc {SUPPORTED_AIORTC}, "
            f"not {aiortc.__version__}"
        )
    buffer = MarkerJitterBuffer if marker_release else JitterBuffer
    aiortc.rtcrtpreceiver.JitterBuffer = buffer  # type: ignore[attr-defined]
    aiortc.rtcrtpreceiver.TimestampMapper = WireTimestampMapper  # type: ignore[misc, assignment]
