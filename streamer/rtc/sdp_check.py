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

from aiortc.sdp import SessionDescription

_CODEC_MIME = {"h264": "video/H264", "vp8": "video/VP8"}


class OfferError(ValueError):
    """The offer cannot be answered; the message is the reason given to the client."""


@dataclass(frozen=True, slots=True)
class OfferSummary:
    video_mid: str | None
    has_data_channels: bool
    codecs: tuple[str, ...]  # video codec mime types the offer lists


def check_offer(sdp: str, codec: str) -> OfferSummary:
    """Parses `sdp` and checks it can receive `codec` video from us."""
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
    codecs = tuple(c.mimeType for c in video.rtp.codecs)
    wanted = _CODEC_MIME[codec]
    if not any(c.lower() == wanted.lower() for c in codecs):
        listed = ", ".join(sorted({c.split("/")[-1] for c in codecs})) or "none"
        raise OfferError(f"offer lists no {wanted.split('/')[-1]} codec (it lists: {listed})")
    return OfferSummary(
        video_mid=video.rtp.muxId or None,
        has_data_channels=any(m.kind == "application" for m in parsed.media),
        codecs=codecs,
    )
