"""One viewer: its peer connection, track, data channels and feedback."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpSender

from streamer.auth import ViewerClaims
from streamer.rtc.sender_hook import SenderFeedback, rtp_timestamp_origin
from streamer.rtc.track import ViewerTrack


@dataclass(eq=False)
class Viewer:
    id: str
    claims: ViewerClaims
    pc: RTCPeerConnection
    track: ViewerTrack
    sender: RTCRtpSender
    feedback: SenderFeedback
    codec: str  # "h264" | "vp8": negotiated for this viewer (streamer.rtc.codec_choice)
    created_at: float = field(default_factory=time.monotonic)
    connected_at: float | None = None
    channels: dict[str, Any] = field(default_factory=dict)  # label -> RTCDataChannel
    _origin: int | None = None
    _last_pts: int | None = None

    @property
    def role(self) -> str:
        return self.claims.role

    def wire_rtp_timestamp(self, pts: int) -> int | None:
        """The RTP timestamp this viewer will see for a frame with `pts` (None: not known yet)."""
        if self._origin is None and self._last_pts is not None:
            self._origin = rtp_timestamp_origin(self.sender, self._last_pts)
        self._last_pts = pts
        if self._origin is None:
            return None
        return (self._origin + pts) % (1 << 32)

    def send(self, label: str, message: str) -> bool:
        """Sends on an open channel; False when it is not (yet) open."""
        channel = self.channels.get(label)
        if channel is None or channel.readyState != "open":
            return False
        channel.send(message)
        return True
