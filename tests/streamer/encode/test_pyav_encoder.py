"""PyAVEncoder on libx264 and libvpx, checked by decoding what it produces.

Covers: frames decode back close to the input (PSNR); the first frame and
forced frames are keyframes (H.264: IDR with SPS/PPS in-band, RFC 6184) and
nothing else is; the SPS says Constrained Baseline and BT.709 limited range;
timestamps are the RTP video clock and increase; every frame comes out of its
own `encode` call in presentation order (no B-frames, no delay); aiortc's
packetizers take the packets and their payloads decode again; the target
bitrate reaches libx264 live and libvpx at the next forced keyframe; input is
wrapped without a copy; bad input is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc.codecs.h264 import H264Encoder, h264_depayload
from aiortc.codecs.vpx import Vp8Encoder, vp8_depayload
from av.video.codeccontext import VideoCodecContext
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace

from streamer.encode.base import VIDEO_CLOCK_HZ, EncodedFrame, EncoderConfig, EncoderError
from streamer.encode.pyav_encoder import PyAVEncoder, wrap_i420

WIDTH, HEIGHT, FPS = 320, 240, 30
TICKS = VIDEO_CLOCK_HZ // FPS
FIRST_PTS = 1_000_000  # not zero, so a lost offset would show
CLIP_FRAMES = 30
FORCED_AT = 15
DECODERS = {"libx264": "h264", "libvpx": "vp8"}
NAL_IDR, NAL_SPS, NAL_PPS = 5, 7, 8

Frame = npt.NDArray[np.uint8]


def smooth_i420(index: int, width: int = WIDTH, height: int = HEIGHT) -> Frame:
    """Gradients and a moving bright disc: content a renderer could produce, not noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = width * (0.3 + 0.01 * index), height * 0.5
    disc = 80.0 * (((x - cx) ** 2 + (y - cy) ** 2) < (height / 5) ** 2)
    luma = 40 + 0.3 * x + 0.2 * y + 30 * np.sin((x + 3 * index) / 17) + disc
    cy2, cx2 = np.mgrid[0 : height // 2, 0 : width // 2].astype(np.float32)
    u = 128 + 40 * np.sin((cx2 + index) / 23)
    v = 128 + 40 * np.cos(cy2 / 19)
    planes = [np.clip(p, 16, 235).astype(np.uint8).reshape(-1) for p in (luma, u, v)]
    return np.concatenate(planes).reshape(height * 3 // 2, width)


def textured_i420(index: int) -> Frame:
    """A fine texture panning sideways: needs bits, so the rate control has to bite."""
    texture = np.random.default_rng(7).integers(98, 158, (HEIGHT * 3 // 2, WIDTH + 128))
    shift = (index * 2) % 128
    return np.ascontiguousarray(texture[:, shift : shift + WIDTH].astype(np.uint8))


def config(codec: str, bitrate_bps: int = 1_500_000) -> EncoderConfig:
    return EncoderConfig(codec, WIDTH, HEIGHT, FPS, bitrate_bps, allow_hardware=False)


@dataclass
class Clip:
    implementation: str
    inputs: list[Frame]
    encoded: list[EncodedFrame]


def encode_clip(implementation: str) -> Clip:
    encoder = PyAVEncoder(config(DECODERS[implementation]), implementation)
    inputs = [smooth_i420(i) for i in range(CLIP_FRAMES)]
    encoded = [
        encoder.encode(frame, FIRST_PTS + i * TICKS, force_keyframe=i == FORCED_AT)
        for i, frame in enumerate(inputs)
    ]
    encoder.close()
    return Clip(implementation, inputs, encoded)


@pytest.fixture(scope="module", params=sorted(DECODERS))
def clip(request: pytest.FixtureRequest) -> Clip:
    return encode_clip(str(request.param))


@pytest.fixture(scope="module")
def h264_clip() -> Clip:
    return encode_clip("libx264")


def video_decoder(codec: str) -> VideoCodecContext:
    decoder = av.CodecContext.create(codec, "r")
    assert isinstance(decoder, VideoCodecContext)
    return decoder


def decode_each(codec: str, frames: list[EncodedFrame]) -> Iterator[list[av.VideoFrame]]:
    """Yields, per encoded frame, what the decoder returns right after its packets."""
    decoder = video_decoder(codec)
    for frame in frames:
        yield [out for packet in frame.packets for out in decoder.decode(packet)]


def psnr(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    mse = float(np.mean(diff**2))
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


def nal_units(annexb: bytes) -> list[bytes]:
    """Splits an Annex-B byte stream (H.264 Annex B.1) at its start codes."""
    starts = [i + 3 for i in range(len(annexb) - 2) if annexb[i : i + 3] == b"\x00\x00\x01"]
    ends = [s - 3 for s in starts[1:]] + [len(annexb)]
    return [annexb[s:e].rstrip(b"\x00") for s, e in zip(starts, ends, strict=True)]


def nal_types(frame: EncodedFrame) -> list[int]:
    return [nal[0] & 0x1F for packet in frame.packets for nal in nal_units(bytes(packet))]


def test_decoded_frames_match_the_input_above_30_db(clip: Clip) -> None:
    decoded = list(decode_each(DECODERS[clip.implementation], clip.encoded))
    for source, outputs in zip(clip.inputs, decoded, strict=True):
        assert len(outputs) == 1
        luma = outputs[0].to_ndarray()[:HEIGHT]
        assert psnr(luma, source[:HEIGHT]) > 30.0


def test_only_the_first_and_the_forced_frame_are_keyframes(clip: Clip) -> None:
    keyframes = [i for i, frame in enumerate(clip.encoded) if frame.keyframe]
    assert keyframes == [0, FORCED_AT]
    flagged = [i for i, f in enumerate(clip.encoded) if any(p.is_keyframe for p in f.packets)]
    assert flagged == keyframes


def test_h264_keyframes_are_idrs_led_by_in_band_sps_and_pps(h264_clip: Clip) -> None:
    for index in (0, FORCED_AT):
        types = nal_types(h264_clip.encoded[index])
        assert NAL_IDR in types
        assert types.index(NAL_SPS) < types.index(NAL_PPS) < types.index(NAL_IDR)


def test_h264_other_frames_carry_neither_idr_nor_parameter_sets(h264_clip: Clip) -> None:
    for index, frame in enumerate(h264_clip.encoded):
        if index not in (0, FORCED_AT):
            assert {NAL_IDR, NAL_SPS, NAL_PPS}.isdisjoint(nal_types(frame))


def test_h264_sps_declares_constrained_baseline(h264_clip: Clip) -> None:
    first = h264_clip.encoded[0].packets[0]
    sps = next(nal for nal in nal_units(bytes(first)) if nal[0] & 0x1F == NAL_SPS)
    profile_idc, constraints = sps[1], sps[2]
    assert profile_idc == 66  # Baseline (H.264 Annex A.2.1)
    assert constraints & 0x40  # constraint_set1_flag: Constrained Baseline (A.2.1.1)


def test_h264_stream_signals_bt709_limited_range(h264_clip: Clip) -> None:
    decoded = next(decode_each("h264", h264_clip.encoded[:1]))[0]
    assert decoded.color_primaries == ColorPrimaries.BT709
    assert decoded.colorspace == Colorspace.ITU709
    assert decoded.color_range == ColorRange.MPEG


def test_packets_carry_increasing_pts_in_the_rtp_video_clock(clip: Clip) -> None:
    packets = [p for frame in clip.encoded for p in frame.packets]
    assert [p.pts for p in packets] == [FIRST_PTS + i * TICKS for i in range(CLIP_FRAMES)]
    assert all(p.time_base == Fraction(1, VIDEO_CLOCK_HZ) for p in packets)
    assert [f.pts for f in clip.encoded] == [p.pts for p in packets]


def test_each_frame_comes_out_of_its_own_call_in_presentation_order(clip: Clip) -> None:
    assert all(len(frame.packets) == 1 for frame in clip.encoded)
    assert all(p.dts == p.pts for frame in clip.encoded for p in frame.packets)
    decoded = list(decode_each(DECODERS[clip.implementation], clip.encoded))
    assert [outputs[0].pts for outputs in decoded] == [f.pts for f in clip.encoded]


def test_sizes_and_times_are_reported_per_frame(clip: Clip) -> None:
    for frame in clip.encoded:
        assert frame.size_bytes == sum(p.size for p in frame.packets) > 0
        assert 0.0 < frame.encode_s < 1.0


@pytest.mark.parametrize(
    ("implementation", "packetizer", "depayload"),
    [("libx264", H264Encoder, h264_depayload), ("libvpx", Vp8Encoder, vp8_depayload)],
)
def test_aiortc_packetizes_our_packets_with_our_timestamp_and_they_decode(
    implementation: str, packetizer: type, depayload: Callable[[bytes], bytes]
) -> None:
    encoder = PyAVEncoder(config(DECODERS[implementation]), implementation)
    decoder = video_decoder(DECODERS[implementation])
    rtp_packer = packetizer()
    for i in range(3):
        pts = FIRST_PTS + i * TICKS
        (packet,) = encoder.encode(smooth_i420(i), pts).packets
        payloads, timestamp = rtp_packer.pack(packet)
        assert timestamp == pts
        assert payloads
        assert all(len(p) <= 1300 for p in payloads)  # aiortc's PACKET_MAX
        rebuilt = b"".join(depayload(p) for p in payloads)
        (frame,) = decoder.decode(av.Packet(rebuilt))
        assert psnr(frame.to_ndarray()[:HEIGHT], smooth_i420(i)[:HEIGHT]) > 30.0


def encoded_bytes(encoder: PyAVEncoder, first: int, count: int) -> int:
    frames = (
        encoder.encode(textured_i420(i), (i + 1) * TICKS) for i in range(first, first + count)
    )
    return sum(frame.size_bytes for frame in frames)


def test_lowering_the_target_bitrate_shrinks_libx264_output_without_a_keyframe() -> None:
    encoder = PyAVEncoder(config("h264", bitrate_bps=2_000_000), "libx264")
    encoded_bytes(encoder, 0, 10)  # past the first keyframe
    before = encoded_bytes(encoder, 10, 10)
    encoder.set_target_bitrate(400_000)
    after = encoded_bytes(encoder, 20, 10)
    assert encoder.target_bitrate_bps == 400_000
    assert after < before * 0.5
    ten_frames_at_2_mbps = 2_000_000 / 8 * 10 / FPS
    assert before < ten_frames_at_2_mbps * 1.5  # the first target held as well


def test_libvpx_applies_a_new_target_at_the_next_forced_keyframe() -> None:
    encoder = PyAVEncoder(config("vp8", bitrate_bps=2_000_000), "libvpx")
    assert not encoder.bitrate_changes_live
    encoded_bytes(encoder, 0, 10)
    before = encoded_bytes(encoder, 10, 10)
    encoder.set_target_bitrate(400_000)
    assert encoder.pending_bitrate_bps == 400_000
    assert encoder.target_bitrate_bps == 2_000_000
    unchanged = encoded_bytes(encoder, 20, 10)
    keyframe = encoder.encode(textured_i420(30), 31 * TICKS, force_keyframe=True)
    assert keyframe.keyframe
    assert encoder.pending_bitrate_bps is None
    assert encoder.target_bitrate_bps == 400_000
    encoded_bytes(encoder, 31, 9)  # let the new rate control settle after the keyframe
    after = encoded_bytes(encoder, 40, 10)
    assert unchanged > before * 0.7  # libvpx did not change on its own
    assert after < before * 0.5


def test_a_target_back_at_the_current_rate_cancels_a_pending_libvpx_change() -> None:
    encoder = PyAVEncoder(config("vp8", bitrate_bps=2_000_000), "libvpx")
    encoder.set_target_bitrate(500_000)
    encoder.set_target_bitrate(2_000_000)
    assert encoder.pending_bitrate_bps is None


def test_the_target_is_clamped_to_the_configured_ceiling() -> None:
    encoder = PyAVEncoder(config("h264", bitrate_bps=2_000_000), "libx264")
    encoder.set_target_bitrate(50_000_000)
    assert encoder.target_bitrate_bps == 2_000_000


def test_wrapping_an_i420_array_shares_its_memory() -> None:
    array = smooth_i420(0)
    frame = wrap_i420(array, WIDTH, HEIGHT)
    base = array.ctypes.data
    luma, chroma = WIDTH * HEIGHT, WIDTH * HEIGHT // 4
    starts = [plane.buffer_ptr for plane in frame.planes]
    assert starts == [base, base + luma, base + luma + chroma]
    assert np.array_equal(frame.to_ndarray(), array)


def test_a_timestamp_that_does_not_increase_is_refused_and_the_stream_goes_on() -> None:
    encoder = PyAVEncoder(config("vp8"), "libvpx")
    encoder.encode(smooth_i420(0), 3000)
    with pytest.raises(EncoderError, match="does not increase"):
        encoder.encode(smooth_i420(1), 3000)
    assert encoder.encode(smooth_i420(1), 6000).size_bytes > 0


def test_a_frame_of_the_wrong_shape_is_refused() -> None:
    encoder = PyAVEncoder(config("h264"), "libx264")
    with pytest.raises(EncoderError, match="shape"):
        encoder.encode(smooth_i420(0, width=WIDTH, height=HEIGHT - 16), TICKS)


def test_a_closed_encoder_refuses_frames() -> None:
    encoder = PyAVEncoder(config("h264"), "libx264")
    encoder.close()
    with pytest.raises(EncoderError, match="closed"):
        encoder.encode(smooth_i420(0), TICKS)
