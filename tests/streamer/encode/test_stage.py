"""The encode stage: one real encoder per codec in use, each frame encoded once per codec.

Real libx264 and libvpx encoders (`create_encoder`, software only), counted
through a recording opener: encoders open when a codec is first wanted, with a
keyframe, and close when it is no longer wanted (the preferred one stays);
keyframe requests and bitrate targets reach one codec's encoder only; an
encoder opened mid-stream takes the stream's timestamps; every packet decodes.
"""

from __future__ import annotations

import av
import pytest

from streamer.encode.base import VIDEO_CLOCK_HZ, EncodedFrame, Encoder, EncoderConfig
from streamer.encode.factory import create_encoder
from streamer.encode.pyav_encoder import PyAVEncoder
from streamer.encode.stage import EncoderSet
from tests.streamer.encode.test_pyav_encoder import smooth_i420

CONFIG = EncoderConfig("h264", 320, 240, 30, bitrate_bps=2_000_000, allow_hardware=False)
TICKS = VIDEO_CLOCK_HZ // 30


class Opener:
    """Opens real encoders and remembers each one it opened."""

    def __init__(self) -> None:
        self.opened: list[Encoder] = []

    def __call__(self, config: EncoderConfig) -> Encoder:
        encoder = create_encoder(config)
        self.opened.append(encoder)
        return encoder

    def codecs(self) -> list[str]:
        return [e.codec for e in self.opened]


@pytest.fixture
def opener() -> Opener:
    return Opener()


@pytest.fixture
def stage(opener: Opener) -> EncoderSet:
    stage = EncoderSet(CONFIG, opener)
    assert stage.warm_up(smooth_i420(0)) == "libx264"
    return stage


def run(
    stage: EncoderSet,
    wanted: set[str],
    frames: range,
    keyframes: dict[str, set[str]] | None = None,
) -> dict[str, list[EncodedFrame]]:
    """Encodes frames `frames` (pts one frame interval apart) for the `wanted` codecs."""
    out: dict[str, list[EncodedFrame]] = {}
    for i in frames:
        pts = (i + 1) * TICKS
        for codec, encoded in stage.encode(wanted, smooth_i420(i), pts, keyframes or {}):
            out.setdefault(codec, []).append(encoded)
    return out


def test_each_frame_is_encoded_once_per_wanted_codec_by_one_encoder_each(
    stage: EncoderSet, opener: Opener
) -> None:
    out = run(stage, {"h264", "vp8"}, range(1, 2), keyframes={"h264": {"viewer_joined"}})
    for codec, frames in run(stage, {"h264", "vp8"}, range(2, 11)).items():
        out[codec] += frames
    assert opener.codecs() == ["h264", "vp8"]  # one per codec, opened once
    assert {codec: len(frames) for codec, frames in out.items()} == {"h264": 10, "vp8": 10}
    assert stage.open_codecs == ("h264", "vp8")
    for codec, frames in out.items():
        decoder = av.CodecContext.create(codec, "r")
        pictures = [p for f in frames for packet in f.packets for p in decoder.decode(packet)]
        assert len(pictures) == 10, codec


def test_a_codec_opened_mid_stream_starts_with_a_keyframe_and_closes_when_unwanted(
    stage: EncoderSet, opener: Opener
) -> None:
    run(stage, {"h264"}, range(1, 6))
    out = run(stage, {"h264", "vp8"}, range(6, 9))
    assert [f.keyframe for f in out["vp8"]] == [True, False, False]
    assert [f.pts for f in out["vp8"]] == [7 * TICKS, 8 * TICKS, 9 * TICKS]
    assert not any(f.keyframe for f in out["h264"])  # the H.264 viewers pay nothing for it
    out = run(stage, {"vp8"}, range(9, 11))
    assert stage.open_codecs == ("h264", "vp8")  # the preferred encoder stays open, idle
    assert list(out) == ["vp8"]
    run(stage, {"h264"}, range(11, 12))
    assert stage.open_codecs == ("h264",)
    assert opener.codecs() == ["h264", "vp8"]


def test_a_keyframe_request_reaches_only_its_codecs_encoder(stage: EncoderSet) -> None:
    run(stage, {"h264", "vp8"}, range(1, 4))
    out = run(stage, {"h264", "vp8"}, range(4, 5), keyframes={"vp8": {"pli"}})
    assert out["vp8"][0].keyframe
    assert not out["h264"][0].keyframe


def test_a_bitrate_target_reaches_only_its_codecs_encoder_even_before_it_opens(
    stage: EncoderSet, opener: Opener
) -> None:
    stage.set_target_bitrate("vp8", 600_000)
    run(stage, {"h264", "vp8"}, range(1, 3))
    h264, vp8 = opener.opened
    assert isinstance(h264, PyAVEncoder)
    assert isinstance(vp8, PyAVEncoder)
    assert h264.target_bitrate_bps == CONFIG.bitrate_bps
    # libvpx takes a new rate at a forced keyframe (pyav_encoder.py says why): its first.
    assert vp8.target_bitrate_bps == 600_000
    stage.set_target_bitrate("h264", 900_000)
    assert h264.target_bitrate_bps == 900_000
