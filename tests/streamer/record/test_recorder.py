"""Recorder on the real encoders, checked by demuxing and decoding the files it writes.

Covers: an H.264 recording is an MP4 and a VP8 one a WebM that decode to every
frame written, at the stream's size and timing (gaps included); the file holds
the encoder's own bitstream (H.264: the same NAL units, only the framing
changes from Annex B to MP4 length prefixes, and `avcC` carries the in-band
SPS/PPS; VP8: the same bytes), so nothing was re-encoded; keyframes stay sync
samples; frames before the first keyframe and frames whose timestamp does not
increase are skipped and counted; the encoder's packets are left as they were
for the RTP senders; `close` is idempotent; no frames means no file; bad paths
and suffixes fail at construction. `h264_nvenc` is checked where it opens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from streamer.encode.base import VIDEO_CLOCK_HZ, EncodedFrame, Encoder, EncoderConfig
from streamer.encode.factory import create_encoder, nvenc_available
from streamer.encode.pyav_encoder import PyAVEncoder
from streamer.record import Recorder, RecorderError, RecordingSummary
from streamer.record.recorder import RecordedCodec

WIDTH, HEIGHT, FPS = 320, 180, 30
TICKS = VIDEO_CLOCK_HZ // FPS
FIRST_PTS = 5_000_000  # the stream ran for a while before recording: the file starts at 0 anyway
CLIP_FRAMES = 90
FORCED_KEYFRAMES = (30, 60)
CODEC_NAMES: dict[RecordedCodec, str] = {"h264": "h264", "vp8": "vp8"}
NAL_SPS, NAL_PPS = 7, 8


def gradient_i420(index: int) -> npt.NDArray[np.uint8]:
    """Moving gradients: cheap to make, and a real motion for the encoder to code."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    luma = (x * 0.6 + y * 0.4 + index * 4) % 220 + 16
    chroma = np.full((HEIGHT // 2, WIDTH), 128 + (index % 32), dtype=np.uint8)
    return np.ascontiguousarray(np.vstack([luma.astype(np.uint8), chroma]))


def encode_clip(
    encoder: Encoder, count: int, pts_of: Callable[[int], int] | None = None
) -> list[EncodedFrame]:
    pts_of = pts_of or (lambda i: FIRST_PTS + i * TICKS)
    try:
        return [
            encoder.encode(gradient_i420(i), pts_of(i), force_keyframe=i in FORCED_KEYFRAMES)
            for i in range(count)
        ]
    finally:
        encoder.close()


def make_encoder(codec: RecordedCodec) -> Encoder:
    config = EncoderConfig(
        codec=codec,
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        bitrate_bps=1_000_000,
        allow_hardware=False,
    )
    return create_encoder(config)


@pytest.fixture(scope="module", params=["h264", "vp8"])
def codec(request: pytest.FixtureRequest) -> RecordedCodec:
    value: RecordedCodec = request.param
    return value


@pytest.fixture(scope="module")
def clip(codec: RecordedCodec) -> list[EncodedFrame]:
    """90 frames at 30 fps, keyframes at 0, 30 and 60; encoded once per codec."""
    return encode_clip(make_encoder(codec), CLIP_FRAMES)


def path_for(tmp_path: Path, codec: str) -> Path:
    return tmp_path / f"session{Recorder.suffix_for(codec)}"


def record(path: Path, codec: RecordedCodec, frames: Sequence[EncodedFrame]) -> RecordingSummary:
    recorder = Recorder(path, codec, WIDTH, HEIGHT, FPS)
    for frame in frames:
        recorder.write(frame)
    return recorder.close()


@dataclass(frozen=True)
class Demuxed:
    codec_name: str
    width: int
    height: int
    duration_s: float
    extradata: bytes
    packets: list[tuple[bytes, float, bool]]  # payload, pts in seconds, keyframe


def demux(path: Path) -> Demuxed:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert container.duration is not None
        packets = [
            (bytes(packet), float(packet.pts * packet.time_base), packet.is_keyframe)
            for packet in container.demux(stream)
            if packet.size and packet.pts is not None
        ]
        return Demuxed(
            codec_name=stream.codec_context.name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            duration_s=container.duration / av.time_base,
            extradata=bytes(stream.codec_context.extradata or b""),
            packets=packets,
        )


def decoded_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0) if frame.time is not None]


def annexb_nal_units(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (ITU-T H.264 Annex B): split at start codes."""
    starts = []
    at = data.find(b"\x00\x00\x01")
    while at >= 0:
        starts.append(at + 3)
        at = data.find(b"\x00\x00\x01", at + 3)
    ends = [start - 3 for start in starts[1:]] + [len(data)]
    return [data[start:end].rstrip(b"\x00") for start, end in zip(starts, ends, strict=True)]


def length_prefixed_nal_units(data: bytes, length_size: int) -> list[bytes]:
    """NAL units of an MP4 sample (ISO/IEC 14496-15 §5.3.2): each after a big-endian length."""
    units, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at : at + length_size], "big")
        units.append(data[at + length_size : at + length_size + size])
        at += length_size + size
    assert at == len(data), "the sample does not parse as length-prefixed NAL units"
    return units


def avcc_parameter_sets(avcc: bytes) -> tuple[int, list[bytes]]:
    """(NAL length size, SPS + PPS) from an `avcC` record (ISO/IEC 14496-15 §5.3.3.1)."""
    assert avcc[0] == 1, "extradata is not an avcC record"
    length_size = (avcc[4] & 0b11) + 1
    sets, at = [], 6
    for count_mask in (0b11111, 0xFF):
        count = avcc[at - 1] & count_mask
        for _ in range(count):
            size = int.from_bytes(avcc[at : at + 2], "big")
            sets.append(avcc[at + 2 : at + 2 + size])
            at += 2 + size
        at += 1
    return length_size, sets


def assert_same_bitstream(codec: str, written: Sequence[EncodedFrame], file: Demuxed) -> None:
    """The file's payloads are the encoder's, frame by frame; only H.264 framing differs."""
    produced = [bytes(packet) for frame in written for packet in frame.packets]
    stored = [payload for payload, _, _ in file.packets]
    assert len(stored) == len(produced)
    if codec == "vp8":
        assert stored == produced
        return
    length_size, parameter_sets = avcc_parameter_sets(file.extradata)
    for made, kept in zip(produced, stored, strict=True):
        assert length_prefixed_nal_units(kept, length_size) == annexb_nal_units(made)
    in_band = [
        unit for unit in annexb_nal_units(produced[0]) if unit[0] & 0x1F in (NAL_SPS, NAL_PPS)
    ]
    assert parameter_sets == in_band


def test_the_recording_decodes_to_every_frame_at_the_streams_size_and_rate(
    tmp_path: Path, codec: RecordedCodec, clip: list[EncodedFrame]
) -> None:
    path = path_for(tmp_path, codec)
    summary = record(path, codec, clip)

    assert (summary.path, summary.frames, summary.skipped) == (path, CLIP_FRAMES, 0)
    assert summary.duration_s == pytest.approx(CLIP_FRAMES / FPS)
    assert summary.size_bytes == path.stat().st_size
    file = demux(path)
    assert (file.codec_name, file.width, file.height) == (CODEC_NAMES[codec], WIDTH, HEIGHT)
    assert file.duration_s == pytest.approx(CLIP_FRAMES / FPS, abs=1 / FPS)
    times = decoded_times(path)
    assert times == pytest.approx([i / FPS for i in range(CLIP_FRAMES)], abs=1e-3)


def test_the_file_holds_the_encoders_bitstream_not_a_reencode(
    tmp_path: Path, codec: RecordedCodec, clip: list[EncodedFrame]
) -> None:
    path = path_for(tmp_path, codec)
    record(path, codec, clip)

    file = demux(path)
    assert_same_bitstream(codec, clip, file)
    keyframes = [i for i, (_, _, key) in enumerate(file.packets) if key]
    assert keyframes == [0, *FORCED_KEYFRAMES]


def test_frames_before_the_first_keyframe_are_skipped_and_counted(
    tmp_path: Path, codec: RecordedCodec, clip: list[EncodedFrame]
) -> None:
    path = path_for(tmp_path, codec)
    summary = record(path, codec, clip[10:])  # joins mid-GOP; the next keyframe is frame 30

    assert (summary.skipped, summary.frames) == (20, CLIP_FRAMES - 30)
    assert summary.duration_s == pytest.approx((CLIP_FRAMES - 30) / FPS)
    file = demux(path)
    assert_same_bitstream(codec, clip[30:], file)
    assert decoded_times(path) == pytest.approx(
        [i / FPS for i in range(CLIP_FRAMES - 30)], abs=1e-3
    )


def test_a_gap_in_the_stream_stays_a_gap_in_the_recording(
    tmp_path: Path, codec: RecordedCodec
) -> None:
    # 10 frames, then 1.5 s without frames (a stalled renderer), then 10 more.
    def pts_of(i: int) -> int:
        return FIRST_PTS + i * TICKS + (VIDEO_CLOCK_HZ * 3 // 2 if i >= 10 else 0)

    frames = encode_clip(make_encoder(codec), 20, pts_of)
    path = path_for(tmp_path, codec)
    summary = record(path, codec, frames)

    expected = [(pts_of(i) - FIRST_PTS) / VIDEO_CLOCK_HZ for i in range(20)]
    assert [pts for _, pts, _ in demux(path).packets] == pytest.approx(expected, abs=1e-3)
    assert summary.duration_s == pytest.approx(expected[-1] + 1 / FPS)


def test_repeated_or_backwards_timestamps_are_dropped_not_fatal(
    tmp_path: Path, codec: RecordedCodec, clip: list[EncodedFrame]
) -> None:
    path = path_for(tmp_path, codec)
    summary = record(path, codec, [*clip[:20], clip[19], clip[5], *clip[20:30]])

    assert (summary.frames, summary.skipped) == (30, 2)
    assert len(decoded_times(path)) == 30
    assert_same_bitstream(codec, clip[:30], demux(path))


def test_recording_leaves_the_encoders_packets_as_the_rtp_senders_need_them(
    tmp_path: Path, codec: RecordedCodec, clip: list[EncodedFrame]
) -> None:
    before = [
        (bytes(p), p.pts, p.dts, p.time_base, p.is_keyframe) for f in clip[:5] for p in f.packets
    ]
    record(path_for(tmp_path, codec), codec, clip[:5])

    after = [
        (bytes(p), p.pts, p.dts, p.time_base, p.is_keyframe) for f in clip[:5] for p in f.packets
    ]
    assert after == before
    assert all(p.time_base == Fraction(1, VIDEO_CLOCK_HZ) for f in clip[:5] for p in f.packets)


def test_close_is_idempotent_and_a_closed_recorder_refuses_frames(
    tmp_path: Path, codec: RecordedCodec, clip: list[EncodedFrame]
) -> None:
    recorder = Recorder(path_for(tmp_path, codec), codec, WIDTH, HEIGHT, FPS)
    for frame in clip[:3]:
        recorder.write(frame)
    first = recorder.close()

    assert recorder.close() == first
    assert first.frames == 3
    with pytest.raises(RecorderError, match="closed"):
        recorder.write(clip[3])


def test_a_recording_without_frames_leaves_no_file(
    tmp_path: Path, codec: RecordedCodec, clip: list[EncodedFrame]
) -> None:
    path = path_for(tmp_path, codec)
    assert record(path, codec, []) == RecordingSummary(path, 0, 0.0, 0, 0)
    assert not path.exists()

    only_delta_frames = record(path, codec, clip[1:30])
    assert only_delta_frames == RecordingSummary(path, 0, 0.0, 0, 29)
    assert not path.exists()


def test_an_unwritable_path_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(RecorderError, match="missing"):
        Recorder(tmp_path / "missing" / "session.mp4", "h264", WIDTH, HEIGHT, FPS)
    (tmp_path / "taken.mp4").mkdir()
    with pytest.raises(RecorderError, match=r"taken\.mp4"):
        Recorder(tmp_path / "taken.mp4", "h264", WIDTH, HEIGHT, FPS)


def test_the_container_follows_the_codec(tmp_path: Path) -> None:
    assert (Recorder.suffix_for("h264"), Recorder.media_type_for("h264")) == (".mp4", "video/mp4")
    assert (Recorder.suffix_for("vp8"), Recorder.media_type_for("vp8")) == (".webm", "video/webm")
    with pytest.raises(RecorderError, match=r"must end in '\.webm'"):
        Recorder(tmp_path / "session.mp4", "vp8", WIDTH, HEIGHT, FPS)
    with pytest.raises(RecorderError, match="vp9"):
        Recorder.suffix_for("vp9")
    assert not (tmp_path / "session.mp4").exists()


@pytest.mark.gpu
def test_h264_nvenc_packets_are_recorded_the_same_way(tmp_path: Path) -> None:
    available, reason = nvenc_available()
    if not available:
        pytest.skip(f"h264_nvenc does not open here: {reason}")
    config = EncoderConfig(codec="h264", width=WIDTH, height=HEIGHT, fps=FPS)
    frames = encode_clip(PyAVEncoder(config, "h264_nvenc"), CLIP_FRAMES)
    path = path_for(tmp_path, "h264")
    summary = record(path, "h264", frames)

    assert summary.frames == CLIP_FRAMES
    assert_same_bitstream("h264", frames, demux(path))
    assert len(decoded_times(path)) == CLIP_FRAMES
