"""Codec negotiation: which codec each real offer gets, and the 406 reason when none fits.

The offers in `offers/` were captured from real peers on this machine: Chromium
156 (its default offer, and offers made after `setCodecPreferences` narrowed it
to VP8, to VP9 and AV1, or to H.264 Main profile) and aiortc 1.16 (H.264 only).
No Firefox runs here: `firefox.sdp` is written in the shape of Firefox's
recvonly offer (VP8, VP9, H.264 with packetization-mode 1 and 0, ulpfec, red).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiortc import RTCRtpCodecParameters

from streamer.rtc.codec_choice import NoCommonCodecError, choose_codec
from streamer.rtc.sdp_check import check_offer

OFFERS = Path(__file__).parent / "offers"
SENDABLE = ("h264", "vp8")


def offered(name: str) -> tuple[RTCRtpCodecParameters, ...]:
    return check_offer((OFFERS / name).read_text()).video_codecs


@pytest.mark.parametrize(
    ("offer", "preferred", "chosen"),
    [
        ("chromium.sdp", "h264", "h264"),
        ("chromium.sdp", "vp8", "vp8"),
        ("firefox.sdp", "h264", "h264"),
        ("firefox.sdp", "vp8", "vp8"),
        ("chromium-vp8-only.sdp", "h264", "vp8"),
        ("chromium-vp8-only.sdp", "vp8", "vp8"),
        ("aiortc-h264-only.sdp", "vp8", "h264"),
        ("aiortc-h264-only.sdp", "h264", "h264"),
    ],
)
def test_a_viewer_gets_the_preferred_codec_when_offered_else_one_it_offered(
    offer: str, preferred: str, chosen: str
) -> None:
    assert choose_codec(offered(offer), preferred, SENDABLE) == chosen


@pytest.mark.parametrize(
    ("offer", "reason"),
    [
        (
            "chromium-vp9-av1-only.sdp",
            "the offer lists VP9, AV1; this streamer sends H264, VP8",
        ),
        (
            "chromium-h264-main-only.sdp",
            "the offer lists H264 (Main, packetization-mode 1), H264 (Main, packetization-mode 0);"
            " this streamer sends H264 (Constrained Baseline, packetization-mode 1), VP8",
        ),
    ],
)
def test_an_offer_without_a_codec_we_send_is_refused_naming_both_lists(
    offer: str, reason: str
) -> None:
    with pytest.raises(NoCommonCodecError) as raised:
        choose_codec(offered(offer), "h264", SENDABLE)
    assert str(raised.value) == reason


def h264(payload_type: int, **parameters: str | int) -> RTCRtpCodecParameters:
    return RTCRtpCodecParameters(
        mimeType="video/H264", clockRate=90_000, payloadType=payload_type, parameters=parameters
    )


VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=96)


@pytest.mark.parametrize(
    ("codec", "sendable"),
    [
        (h264(100, **{"packetization-mode": 1, "profile-level-id": "42e01f"}), True),
        (h264(100, **{"packetization-mode": "1", "profile-level-id": "42001f"}), True),
        (h264(100, **{"packetization-mode": 1}), True),  # no profile: Constrained Baseline
        (h264(100, **{"packetization-mode": 0, "profile-level-id": "42e01f"}), False),
        (h264(100, **{"profile-level-id": "42e01f"}), False),  # no mode: mode 0 (RFC 6184 §8.1)
        (h264(100, **{"packetization-mode": 1, "profile-level-id": "640c1f"}), False),
        (h264(100, **{"packetization-mode": 1, "profile-level-id": "zz"}), False),
    ],
)
def test_h264_counts_only_in_a_form_our_encoder_produces(
    codec: RTCRtpCodecParameters, sendable: bool
) -> None:
    offer = [codec, VP8]
    assert choose_codec(offer, "h264", SENDABLE) == ("h264" if sendable else "vp8")


def test_without_the_preferred_codec_the_offers_own_order_decides() -> None:
    good_h264 = h264(100, **{"packetization-mode": 1})
    assert choose_codec([VP8, good_h264], "av1", SENDABLE) == "vp8"
    assert choose_codec([good_h264, VP8], "av1", SENDABLE) == "h264"


def test_a_streamer_that_sends_only_vp8_refuses_an_h264_offer() -> None:
    with pytest.raises(NoCommonCodecError) as raised:
        choose_codec(offered("aiortc-h264-only.sdp"), "vp8", ("vp8",))
    assert str(raised.value) == "the offer lists H264; this streamer sends VP8"
