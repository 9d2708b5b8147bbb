"""Checks a WHEP offer before any connection state exists (pure, no I/O).

aiortc's own parser fails on bad input with whatever exception the failing
line happens to raise (IndexError, KeyError, ValueError…), and some broken
offers parse fine and fail later, deep inside setRemoteDescription. A WHEP
server must answer a malformed offer with 400 and a reason
(draft-ietf-wish-whep §4.2), so every check a viewer's offer must pass lives
here and raises one named error.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiortc import RTCRtpCodecParameters
from aiortc.sdp import SessionDescription


class OfferError(ValueError):
    """The offer cannot be answered; the message is the reason given to the client."""


@dataclass(frozen=True, slots=True)
class OfferSummary:
    video_mid: str | None
    has_data_channels: bool
    video_codecs: tuple[RTCRtpCodecParameters, ...]  # in the offer's order of preference

    @property
    def codecs(self) -> tuple[str, ...]:
        """The video codecs' mime types, in the offer's order."""
        return tuple(c.mimeType for c in self.video_codecs)


def check_offer(sdp: str) -> OfferSummary:
    """Parses `sdp` and checks it is an offer to receive video from us.

    Which codec it gets is `streamer.rtc.codec_choice`'s decision: an offer
    without one we can send is well formed, just not acceptable (406, not 400).
    """
    if not sdp.strip():
        raise OfferError("empty SDP offer")
    if not sdp.lstrip().startswith("v=0"):
        raise OfferError("SDP must start with 'v=0' (RFC 8866 §5)")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser raises many kinds on bad lines
        raise OfferError(f"unparsable SDP: {type(exc).__name__}: {exc}"[:300]) from None
    videos = [m for m in parsed.media if m.kind == "video"]
    if not videos:
        raise OfferError("offer has no video m-line: a WHEP viewer must receive video")
    video = videos[0]
    if video.direction not in {"recvonly", "sendrecv"}:
        raise OfferError(f"video m-line direction is {video.direction!r}: need recvonly")
    for media in parsed.media:
        if media.ice is None or not media.ice.usernameFragment or not media.ice.password:
            raise OfferError(f"{media.kind} m-line lacks ice-ufrag/ice-pwd")
        if media.dtls is None or not media.dtls.fingerprints:
            raise OfferError(f"{media.kind} m-line lacks a DTLS fingerprint")
    return OfferSummary(
        video_mid=video.rtp.muxId or None,
        has_data_channels=any(m.kind == "application" for m in parsed.media),
        video_codecs=tuple(video.rtp.codecs),
    )
