"""create_encoder and nvenc_available: which encoder a stream gets, and why.

Covers: an unknown codec is refused with an error naming it and the supported
ones; H.264 falls back to libx264 where NVENC does not open, and says why;
`allow_hardware=False` never tries NVENC; VP8 gets libvpx; on a machine with a
working NVENC (marked `gpu`), h264_nvenc is chosen and encodes decodable IDRs.
"""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt
import pytest
import structlog
from av.video.codeccontext import VideoCodecContext

from streamer.encode.base import VIDEO_CLOCK_HZ, EncoderConfig, UnknownCodecError
from streamer.encode.factory import create_encoder, nvenc_available

WIDTH, HEIGHT, FPS = 320, 240, 30


def gradient_i420(index: int) -> npt.NDArray[np.uint8]:
    luma = np.arange(WIDTH, dtype=np.int32)[None, :] + 4 * index + np.zeros((HEIGHT, 1), np.int32)
    frame = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
    frame[:HEIGHT] = (16 + luma % 200).astype(np.uint8)
    return frame


def config(codec: str, allow_hardware: bool = True) -> EncoderConfig:
    return EncoderConfig(codec, WIDTH, HEIGHT, FPS, 1_000_000, allow_hardware=allow_hardware)


def test_an_unknown_codec_is_refused_naming_it_and_the_supported_ones() -> None:
    with pytest.raises(UnknownCodecError, match=r"'av1'.*h264, vp8"):
        create_encoder(config("av1"))


def test_h264_falls_back_to_libx264_where_nvenc_does_not_open_and_says_why() -> None:
    available, reason = nvenc_available()
    if available:
        pytest.skip("h264_nvenc opens on this machine; there is no fallback to observe")
    assert reason.startswith("h264_nvenc did not open: ")
    with structlog.testing.capture_logs() as logs:
        encoder = create_encoder(config("h264"))
    assert (encoder.codec, encoder.implementation) == ("h264", "libx264")
    fallbacks = [e for e in logs if e["event"] == "h264_nvenc unavailable"]
    assert len(fallbacks) == 1
    assert fallbacks[0]["reason"] == reason
    assert fallbacks[0]["fallback"] == "libx264"
    assert encoder.encode(gradient_i420(0), 0).keyframe


def test_h264_without_hardware_allowed_never_tries_nvenc() -> None:
    with structlog.testing.capture_logs() as logs:
        encoder = create_encoder(config("h264", allow_hardware=False))
    assert encoder.implementation == "libx264"
    assert logs == []


def test_vp8_gets_libvpx() -> None:
    encoder = create_encoder(config("vp8"))
    assert (encoder.codec, encoder.implementation) == ("vp8", "libvpx")
    assert encoder.encode(gradient_i420(0), 0).keyframe


@pytest.mark.gpu
def test_h264_uses_nvenc_where_it_opens_and_its_frames_decode() -> None:
    available, reason = nvenc_available()
    if not available:
        pytest.skip(f"no usable NVENC here: {reason}")
    encoder = create_encoder(config("h264"))
    assert encoder.implementation == "h264_nvenc"
    decoder = av.CodecContext.create("h264", "r")
    assert isinstance(decoder, VideoCodecContext)
    ticks = VIDEO_CLOCK_HZ // FPS
    encoded = [
        encoder.encode(gradient_i420(i), i * ticks, force_keyframe=i == 5) for i in range(10)
    ]
    assert [i for i, frame in enumerate(encoded) if frame.keyframe] == [0, 5]
    assert all(len(frame.packets) == 1 for frame in encoded)  # no delay, no B-frames
    decoded = [out for frame in encoded for p in frame.packets for out in decoder.decode(p)]
    assert [frame.pts for frame in decoded] == [i * ticks for i in range(10)]
    encoder.close()
