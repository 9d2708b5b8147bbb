"""Encode-stage benchmark: our `PyAVEncoder` against plain PyAV, measured in the same run.

For each codec, the same I420 frames go through:

- ours: `PyAVEncoder.encode` (input wrapping, keyframe flag, packets and
  bookkeeping included), tuned as in `streamer.encode.pyav_encoder`;
- baseline: a fresh `av.CodecContext` with only x264 `ultrafast` +
  `zerolatency` (libvpx: `deadline=realtime`, everything else libavcodec's
  default), fed `VideoFrame.from_ndarray(i420, format="yuv420p")`, which is
  what a plain PyAV prototype does (FIELD-NOTES, "Numbers").

`throughput_ratio` is ours_fps / baseline_fps (target >= 0.9); each side is
the best of `rounds` runs, because these shared 2-core machines vary by ±30 %
run to run. The two do not spend the same bits: the baseline runs
libavcodec's default rate control (CRF 23 for x264, 256 kbps for libvpx), ours
the configured target (8 Mbps), and entropy coding costs time per bit. So
ours is also measured aimed at the bitrate the baseline produced
(`throughput_ratio_at_baseline_bitrate`): that isolates what our settings and
input path cost.

Frames come from the scene renderer (`streamer.render.factory`) with small
head motions when it is present, else from a smooth synthetic scene.

`two_codecs` measures the encode stage (`streamer.encode.stage.EncoderSet`)
with viewers of one codec (H.264) and of two (H.264 and VP8) in the same run:
`cost_ratio` is the time per frame with two codecs over one (what a VP8
viewer joining H.264 viewers costs: one more encode per frame, never one per
viewer), and `overhead_ratio` the two-codec time over the sum of each codec
alone (1.0: the stage adds nothing to the two encodes).

`python -m bench.encode` prints the result as JSON.
"""

from __future__ import annotations

import importlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Any, cast

import av
import numpy as np
import numpy.typing as npt

from ixstream.pose import Pose
from streamer.cores import available_cpus
from streamer.encode.base import VIDEO_CLOCK_HZ, EncoderConfig
from streamer.encode.factory import create_encoder
from streamer.encode.pyav_encoder import (
    MIN_BITRATE_BPS,
    PyAVEncoder,
    open_context,
    wrap_i420,
)
from streamer.encode.stage import EncoderSet
from streamer.render.source import FrameSource, RenderRequest

I420 = npt.NDArray[np.uint8]
IMPLEMENTATIONS = {"h264": "libx264", "vp8": "libvpx"}
BASELINE_OPTIONS = {
    "libx264": {"preset": "ultrafast", "tune": "zerolatency"},
    "libvpx": {"deadline": "realtime"},
}
DISTINCT_FRAMES = 60


@dataclass(frozen=True, slots=True)
class StageResult:
    fps: float
    encode_ms_p50: float
    encode_ms_p95: float
    kbps: float  # output bitrate at the stream's frame rate


def run(
    width: int = 1280, height: int = 720, frames: int = 240, fps: int = 60, rounds: int = 2
) -> dict[str, Any]:
    """Measures both codecs; returns a JSON-ready dict."""
    clip, source = _clip(width, height)
    result: dict[str, Any] = {
        "width": width,
        "height": height,
        "frames": frames,
        "stream_fps": fps,
        "frame_source": source,
        "cpus": available_cpus(),
        "pyav": av.__version__,
        "ffmpeg": av.ffmpeg_version_info,
        "input_wrap": _input_wrap(clip[0], width, height),
    }
    for codec, implementation in IMPLEMENTATIONS.items():
        result[codec] = _compare(codec, implementation, clip, frames, fps, rounds)
    result["two_codecs"] = _two_codecs(clip, frames, fps, rounds)
    return result


def _two_codecs(clip: Sequence[I420], frames: int, fps: int, rounds: int) -> dict[str, Any]:
    """The encode stage with one codec in use, each alone, and two at once: same clip, same run."""
    height, width = clip[0].shape[0] * 2 // 3, clip[0].shape[1]
    config = EncoderConfig("h264", width, height, fps, allow_hardware=False)
    runs = {
        name: _best(rounds, lambda wanted=wanted: _stage_encode(config, wanted), clip, frames)
        for name, wanted in {
            "h264": ("h264",),
            "vp8": ("vp8",),
            "h264_and_vp8": ("h264", "vp8"),
        }.items()
    }
    one, alone_vp8, two = runs["h264"], runs["vp8"], runs["h264_and_vp8"]
    return {
        **{name: asdict(result) for name, result in runs.items()},
        "cost_ratio": round(one.fps / two.fps, 3),
        "overhead_ratio": round((1 / two.fps) / (1 / one.fps + 1 / alone_vp8.fps), 3),
    }


def _stage_encode(config: EncoderConfig, wanted: tuple[str, ...]) -> tuple[EncodeFn, int]:
    stage = EncoderSet(config, create_encoder)

    def encode(i420: I420, pts: int, keyframe: bool) -> int:
        # An encoder opens on its first frame with a keyframe, as for a first viewer.
        return sum(encoded.size_bytes for _, encoded in stage.encode(wanted, i420, pts, {}))

    return encode, config.fps


def _compare(
    codec: str, implementation: str, clip: Sequence[I420], frames: int, fps: int, rounds: int
) -> dict[str, Any]:
    height, width = clip[0].shape[0] * 2 // 3, clip[0].shape[1]
    config = EncoderConfig(codec, width, height, fps, allow_hardware=False)
    baseline = _best(
        rounds, lambda: _baseline_encode(implementation, width, height, fps), clip, frames
    )
    ours = _best(rounds, lambda: _our_encode(config, implementation), clip, frames)
    same_bits = replace(config, bitrate_bps=max(MIN_BITRATE_BPS, round(baseline.kbps * 1000)))
    ours_same_bits = _best(rounds, lambda: _our_encode(same_bits, implementation), clip, frames)
    return {
        "implementation": implementation,
        "threads": open_context(implementation, config, config.bitrate_bps).thread_count,
        "ours": asdict(ours),
        "baseline": asdict(baseline),
        "throughput_ratio": round(ours.fps / baseline.fps, 3),
        "ours_bitrate_target_kbps": config.bitrate_bps // 1000,
        # The same comparison with ours aimed at the bitrate the baseline chose:
        # what our settings and input path cost, apart from how many bits we spend.
        "ours_at_baseline_bitrate": asdict(ours_same_bits),
        "throughput_ratio_at_baseline_bitrate": round(ours_same_bits.fps / baseline.fps, 3),
    }


def _best(
    rounds: int, make: Callable[[], tuple[EncodeFn, int]], clip: Sequence[I420], frames: int
) -> StageResult:
    """The fastest of `rounds` fresh runs: other tenants only ever slow a run down."""
    return max((_measure(make(), clip, frames) for _ in range(rounds)), key=lambda r: r.fps)


EncodeFn = Callable[[I420, int, bool], int]  # (frame, pts, keyframe) -> bytes out


def _our_encode(config: EncoderConfig, implementation: str) -> tuple[EncodeFn, int]:
    encoder = PyAVEncoder(config, implementation)

    def encode(i420: I420, pts: int, keyframe: bool) -> int:
        return encoder.encode(i420, pts, force_keyframe=keyframe).size_bytes

    return encode, config.fps


def _baseline_encode(
    implementation: str, width: int, height: int, fps: int
) -> tuple[EncodeFn, int]:
    context = av.CodecContext.create(implementation, "w")
    assert isinstance(context, av.video.codeccontext.VideoCodecContext)
    context.width, context.height, context.pix_fmt = width, height, "yuv420p"
    context.time_base = Fraction(1, VIDEO_CLOCK_HZ)
    context.framerate = Fraction(fps, 1)
    context.options = dict(BASELINE_OPTIONS[implementation])

    def encode(i420: I420, pts: int, keyframe: bool) -> int:
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts, frame.time_base = pts, context.time_base
        if keyframe:
            frame.pict_type = av.video.frame.PictureType.I
        return sum(packet.size for packet in context.encode(frame))

    return encode, fps


def _measure(encoder: tuple[EncodeFn, int], clip: Sequence[I420], frames: int) -> StageResult:
    encode, fps = encoder
    ticks = VIDEO_CLOCK_HZ // fps
    times, size = [], 0
    for i in range(frames):
        started = time.perf_counter()
        size += encode(clip[i % len(clip)], i * ticks, i == 0)
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    return StageResult(
        fps=round(frames / sum(times), 1),
        encode_ms_p50=round(float(np.percentile(ms, 50)), 2),
        encode_ms_p95=round(float(np.percentile(ms, 95)), 2),
        kbps=round(size * 8 * fps / frames / 1000, 1),
    )


def _input_wrap(i420: I420, width: int, height: int, repeats: int = 200) -> dict[str, Any]:
    """What handing a frame to libavcodec costs: our zero-copy wrap vs `from_ndarray`'s copy."""
    frame = wrap_i420(i420, width, height)
    zero_copy = frame.planes[0].buffer_ptr == i420.ctypes.data
    return {
        "zero_copy": bool(zero_copy),
        "wrap_us_p50": _p50_us(lambda: wrap_i420(i420, width, height), repeats),
        "from_ndarray_us_p50": _p50_us(
            lambda: av.VideoFrame.from_ndarray(i420, format="yuv420p"), repeats
        ),
    }


def _p50_us(make: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        make()
        times.append(time.perf_counter() - started)
    return round(float(np.median(times)) * 1e6, 1)


def _clip(width: int, height: int) -> tuple[list[I420], str]:
    """About a second of distinct frames, cycled during the measurement."""
    try:
        factory = importlib.import_module("streamer.render.factory")
    except ImportError:
        return [_synthetic(i, width, height) for i in range(DISTINCT_FRAMES)], "synthetic"
    create = cast(Callable[[str, int, int], FrameSource], factory.create_frame_source)
    source = create("scene", width, height)
    try:
        return [_rendered(source, i) for i in range(DISTINCT_FRAMES)], source.description
    finally:
        source.close()


def _rendered(source: FrameSource, index: int) -> I420:
    """A frame with the head turning and swaying a little, as a seated trainee's does."""
    yaw = math.radians(3.0) * math.sin(index / 9.0)
    sway = 0.02 * math.sin(index / 13.0)
    head = Pose(
        position=(sway, 1.6, 0.0), orientation=(0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))
    )
    rendered = source.render(RenderRequest(frame_id=index, scene_time_s=index / 60, head=head))
    return rendered.i420.copy()  # the source reuses its buffers


def _synthetic(index: int, width: int, height: int) -> I420:
    """Smooth shaded shapes panning slowly: compressible like a rendered scene, not noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pan = 3.0 * index
    luma = 60 + 0.05 * (x + pan) + 0.08 * y + 25 * np.sin((x + pan) / 97) * np.cos(y / 61)
    for k in range(5):
        cx = (0.15 + 0.17 * k) * width + pan
        cy = height * (0.4 + 0.1 * math.sin(k + index / 20))
        luma += 70 * np.exp(-(((x - cx) ** 2 + (y - cy) ** 2) / (2 * (height / 12) ** 2)))
    cy2, cx2 = np.mgrid[0 : height // 2, 0 : width // 2].astype(np.float32)
    u = 128 + 30 * np.sin((cx2 + pan / 2) / 150)
    v = 128 + 30 * np.cos(cy2 / 90)
    planes = [np.clip(p, 16, 235).astype(np.uint8).reshape(-1) for p in (luma, u, v)]
    return np.concatenate(planes).reshape(height * 3 // 2, width)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
