"""Which codec a viewer gets: the session's preferred one when offered, else another we encode.

A viewer's offer lists the video codecs it can decode (RFC 8829 §5.3.1, in its
order of preference). The streamer can encode H.264 and VP8; a session has a
preferred codec (`--codec`). The choice is:

1. the preferred codec, when the offer lists it in a form we can send;
2. else the first other codec we can send, in the offer's order;
3. else none: the offer is refused with 406 Not Acceptable, naming both lists
   (a WHEP server answers an offer it cannot accept with an error, not with an
   answer that rejects the video, draft-ietf-wish-whep §4.2).

"A form we can send" matters for H.264: the encoder produces Constrained
Baseline (x264 `profile=baseline`, NVENC `profile=baseline`) packetised with
FU-A fragments, so an H.264 entry counts only with `packetization-mode=1`
(RFC 6184 §6.3: mode 0 allows single NAL units only) and a Baseline-family
`profile-level-id` (RFC 6184 §8.1; a Baseline decoder decodes Constrained
Baseline). The test is aiortc's own (`is_codec_compatible`), so we never pick
a codec that aiortc would then leave out of the answer. A missing
`profile-level-id` counts as Constrained Baseline, as in aiortc and libwebrtc.

Pure: parsed codec parameters in, a codec name or `NoCommonCodecError` out.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiortc import RTCRtpCodecParameters
from aiortc.sdp import H264Profile, parse_h264_profile_level_id

#: Codec names as the encoder factory and settings spell them → the SDP encoding name.
ENCODING_NAMES: dict[str, str] = {"h264": "H264", "vp8": "VP8"}
#: Payload formats that carry no picture of their own (retransmission, redundancy, FEC).
_AUXILIARY = {"rtx", "red", "ulpfec", "flexfec-03"}
#: What our H.264 encoders produce, as the error message names it.
H264_FORM = "Constrained Baseline, packetization-mode 1"
_SENDABLE_H264_PROFILES = {H264Profile.PROFILE_CONSTRAINED_BASELINE, H264Profile.PROFILE_BASELINE}


class NoCommonCodecError(Exception):
    """The offer lists no video codec this streamer can send (answered with 406)."""

    def __init__(self, offered: Sequence[str], sendable: Sequence[str]) -> None:
        self.offered = tuple(offered)  # e.g. ("VP9", "AV1", "H264 (Main, packetization-mode 1)")
        self.sendable = tuple(sendable)  # e.g. ("H264", "VP8")
        listed = ", ".join(self.offered) or "no video codec"
        super().__init__(f"the offer lists {listed}; this streamer sends {', '.join(sendable)}")


def choose_codec(
    offered: Sequence[RTCRtpCodecParameters], preferred: str, sendable: Sequence[str]
) -> str:
    """The codec ("h264" | "vp8") to send this viewer; `NoCommonCodecError` when none fits.

    `offered` is the offer's video codecs in its order; `sendable` the codecs
    the streamer can encode; `preferred` the session's codec (one of them).
    """
    usable = [name for codec in offered if (name := sendable_name(codec, sendable)) is not None]
    if preferred in usable:
        return preferred
    if usable:
        return usable[0]
    offered_names = describe(offered)
    h264_offered = any(name.startswith("H264") for name in offered_names)
    sends = [
        f"H264 ({H264_FORM})" if name == "h264" and h264_offered else ENCODING_NAMES[name]
        for name in sendable
    ]
    raise NoCommonCodecError(offered_names, sends)


def sendable_name(codec: RTCRtpCodecParameters, sendable: Sequence[str]) -> str | None:
    """The streamer's name for `codec` when we can send it exactly as offered, else None."""
    for name in sendable:
        if codec.mimeType.lower() != f"video/{ENCODING_NAMES[name]}".lower():
            continue
        if codec.clockRate != 90_000:  # every video payload format uses the 90 kHz clock
            return None
        if name == "h264" and not _h264_fits(codec):
            return None
        return name
    return None


def describe(offered: Sequence[RTCRtpCodecParameters]) -> list[str]:
    """The offer's picture codecs for an error message, in order, each named once.

    An H.264 entry we cannot send says why, e.g. "H264 (High, packetization-mode 1)".
    """
    names: list[str] = []
    for codec in offered:
        name = codec.mimeType.split("/")[-1]
        if name.lower() in _AUXILIARY:
            continue
        if name.upper() == "H264" and not _h264_fits(codec):
            name = f"H264 ({_h264_form(codec)})"
        if name not in names:
            names.append(name)
    return names


def _packetization_mode(codec: RTCRtpCodecParameters) -> str:
    return str(codec.parameters.get("packetization-mode", "0"))


def _profile_level_id(codec: RTCRtpCodecParameters) -> str:
    return str(codec.parameters.get("profile-level-id", "42e01f"))


def _h264_fits(codec: RTCRtpCodecParameters) -> bool:
    if _packetization_mode(codec) != "1":
        return False
    try:
        profile, _ = parse_h264_profile_level_id(_profile_level_id(codec))
    except ValueError:
        return False
    return profile in _SENDABLE_H264_PROFILES


def _h264_form(codec: RTCRtpCodecParameters) -> str:
    try:
        profile_name = parse_h264_profile_level_id(_profile_level_id(codec))[0].name
        profile = profile_name.removeprefix("PROFILE_").replace("_", " ").title()
    except ValueError:
        profile = f"profile-level-id {_profile_level_id(codec)}"
    return f"{profile}, packetization-mode {_packetization_mode(codec)}"
