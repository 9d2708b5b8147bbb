"""Low-latency encoders over a PyAV `CodecContext`: libx264, h264_nvenc and libvpx (VP8).

One class serves the three implementations; what differs is a small table of
options per implementation (`_tuning`). All of them are tuned for interactive
streaming, not for archive quality:

- every input frame yields its packet at once: no B-frames, no lookahead, no
  frame-thread or output delay, so a frame's latency is its encode time;
- keyframes come on demand (a viewer's PLI, RFC 4585 §6.3.1, or a new viewer),
  so the periodic GOP is long (`KEYFRAME_INTERVAL_S`) and a forced keyframe is
  a decoder refresh point (an IDR for H.264, RFC 6184 §8.4; a key frame for
  VP8, RFC 7741 §4.1);
- H.264 carries SPS/PPS in-band before every IDR (no global header), which is
  what RFC 6184 packetization over WebRTC expects when no sprop-parameter-sets
  are signalled in the SDP.

Input frames are I420 arrays (see `streamer.render.source.RenderedFrame`),
wrapped without a copy by `wrap_i420`. Output packets carry `pts` in the RTP
video clock (`time_base` 1/90000): aiortc's packetizers
(`aiortc.codecs.h264.H264Encoder.pack`, `aiortc.codecs.vpx.Vp8Encoder.pack`)
convert `packet.pts` with `packet.time_base` into the RTP timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import av
import av.logging
import numpy as np
import numpy.typing as npt
import structlog
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from streamer import cores
from streamer.encode.base import (
    VIDEO_CLOCK_HZ,
    EncodedFrame,
    Encoder,
    EncoderConfig,
    EncoderError,
    UnknownCodecError,
)

log = structlog.get_logger(__name__)

TIME_BASE = Fraction(1, VIDEO_CLOCK_HZ)
# Periodic keyframes only as a safety net: viewers ask for one (PLI) when they need it.
KEYFRAME_INTERVAL_S = 10
# Below this a 3D scene is unreadable; a lower estimate means the link is gone, not slow.
MIN_BITRATE_BPS = 100_000
# The codec ("h264" | "vp8", what the SDP names) each implementation produces.
IMPLEMENTATION_CODECS: dict[str, str] = {
    "libx264": "h264",
    "h264_nvenc": "h264",
    "libvpx": "vp8",
}

ThreadType = Literal["NONE", "FRAME", "SLICE", "AUTO"]


@dataclass(frozen=True, slots=True)
class _Tuning:
    """How one implementation is opened.

    `live_bitrate` says whether changing `CodecContext.bit_rate` between frames
    reaches the running encoder (libavcodec's wrapper reconfigures it) or needs
    a new encoder.
    """

    options: dict[str, str]
    thread_count: int
    thread_type: ThreadType
    live_bitrate: bool


#: x264 sliced threads beyond this shorten a 720p frame's encode too little to pay.
MAX_X264_THREADS = 4


def encoder_threads(host_sessions: int = 1, cpus: int | None = None) -> int:
    """x264 threads: the session's share of the cores, up to `MAX_X264_THREADS`.

    One session on a 2-core host gets two sliced threads (FIELD-NOTES: 250-360 fps
    against 190 on one); four sessions on it get one each.
    """
    return min(MAX_X264_THREADS, cores.cores_per_session(host_sessions, cpus))


def _frames_of(bitrate_bps: int, fps: int, frames: int) -> int:
    return max(1, bitrate_bps * frames // max(1, fps))


def _x264_tuning(config: EncoderConfig, bitrate_bps: int) -> _Tuning:
    """x264 `ultrafast`/`zerolatency`, constrained baseline, VBV of two frames.

    - `profile=baseline`: x264 then writes profile_idc 66 with
      constraint_set1_flag, i.e. Constrained Baseline, which every browser
      decodes (profile-level-id 42e01f, RFC 6184 §8.1). x264 picks the level
      from size and rate (3.2 for 720p60, above 42e01f's 3.1); browsers offer
      `level-asymmetry-allowed=1`, which lets a sender use a higher level.
    - `maxrate` = the configured bitrate and `bufsize` = two frames' worth: a
      frame never takes more than about two frame intervals to send, which is
      the latency budget; the price is modest keyframe quality.
    - `forced-idr=1`: libavcodec maps `pict_type = I` to `X264_TYPE_IDR`, not
      `X264_TYPE_KEYFRAME` (a recovery-point I-frame whenever open GOP is on),
      so a PLI always gets a frame a fresh decoder can start on.
    - Sliced threads (`thread_type=SLICE`): frame threads would hold frames back
      (one frame of delay per thread); libavcodec only keeps x264's sliced
      threads when `thread_type` is exactly SLICE. Three slices ran ~10 % faster
      than two on an idle 2-core host, but several sessions share those cores.
    - The bitrate can change live: libavcodec's `reconfig_encoder` calls
      `x264_encoder_reconfig` when `bit_rate` differs before a frame. The VBV
      ceiling (`maxrate`) stays at the configured bitrate, so the target can move
      between `MIN_BITRATE_BPS` and that ceiling.
    """
    return _Tuning(
        options={
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": "baseline",
            "forced-idr": "1",
            "rc-lookahead": "0",  # zerolatency's value, stated: no frame waits for a later one
            "maxrate": str(config.bitrate_bps),
            "bufsize": str(_frames_of(config.bitrate_bps, config.fps, 2)),
        },
        thread_count=encoder_threads(config.host_sessions),
        thread_type="SLICE",
        live_bitrate=True,
    )


def _nvenc_tuning(config: EncoderConfig, bitrate_bps: int) -> _Tuning:
    """NVENC's lowest-latency path: preset p1, tune ull, CBR, no B-frames, no lookahead.

    `delay=0` makes libavcodec return each frame's packet from the same call
    instead of keeping a queue of in-flight surfaces. libavcodec's nvenc wrapper
    reconfigures the bitrate live (`nvEncReconfigureEncoder`) when `bit_rate`
    changes. Opens only with the NVIDIA driver and an NVENC-capable card
    (FIELD-NOTES trap 16: H100/H200 have none).
    """
    return _Tuning(
        options={
            "preset": "p1",
            "tune": "ull",
            "rc": "cbr",
            "zerolatency": "1",
            "delay": "0",
            "rc-lookahead": "0",
            "forced-idr": "1",
            "profile": "baseline",
            "maxrate": str(config.bitrate_bps),
            "bufsize": str(_frames_of(config.bitrate_bps, config.fps, 2)),
        },
        thread_count=1,
        thread_type="NONE",
        live_bitrate=True,
    )


def _vpx_tuning(config: EncoderConfig, bitrate_bps: int) -> _Tuning:
    """libvpx VP8 in realtime mode with CBR, following libwebrtc's `LibvpxVp8Encoder`.

    - `deadline=realtime`, `cpu-used=12`: about 1.8x the speed of `cpu-used=6`
      on 720p content here for ~0.5 dB less PSNR.
    - `lag-in-frames=0`, `auto-alt-ref=0`: no lookahead, no hidden alt-ref frames;
      every frame comes out at once.
    - `error-resilient=default`: frames do not depend on probability context
      updates of earlier frames, so a loss hurts less.
    - `static-thresh=1` (libwebrtc's value): blocks that did not change at all
      are skipped cheaply; rendered scenes have many.
    - CBR: `minrate` = `maxrate` = `bit_rate` makes libavcodec pick `VPX_CBR`; a
      500 ms buffer (libwebrtc uses up to 1 s) with undershoot 100 % and
      overshoot 15 % as libwebrtc does, and the keyframe size capped as in
      libwebrtc's `MaxIntraTarget` (optimal buffer × fps / 20, at least 300 %).
    - Threads: see `_vpx_threads`.
    - The bitrate does NOT change live: libavcodec's libvpx wrapper only reads
      `bit_rate` at open (measured in FFmpeg 8.1). `PyAVEncoder` therefore keeps
      the new target pending and applies it when it next has to produce a
      keyframe anyway.
    """
    buffer_ms = 500
    optimal_buffer_ms = buffer_ms * 5 // 6  # what libavcodec derives from `bufsize`
    max_intra_pct = max(300, optimal_buffer_ms * config.fps // 20)
    return _Tuning(
        options={
            "deadline": "realtime",
            "cpu-used": "12",
            "lag-in-frames": "0",
            "auto-alt-ref": "0",
            "error-resilient": "default",
            "static-thresh": "1",
            "minrate": str(bitrate_bps),
            "maxrate": str(bitrate_bps),
            "bufsize": str(bitrate_bps * buffer_ms // 1000),
            "undershoot-pct": "100",
            "overshoot-pct": "15",
            "max-intra-rate": str(max_intra_pct),
        },
        thread_count=_vpx_threads(config),
        thread_type="SLICE",
        live_bitrate=False,
    )


def _vpx_threads(config: EncoderConfig) -> int:
    """Two threads at 720p and above, but only where this session's share is three cores.

    (`row-mt` is a VP9 option; libvpx's VP8 encoder has no row multithreading.)

    Measured at 720p on a shared 2-core host (FIELD-NOTES trap 12 asks): two
    threads encode about 20 % faster (median 250 vs 205 fps), but in one run out
    of six, while other processes competed for the cores, 14 of 240 frames took
    ~180 ms, against at most 18 ms on one thread in every run. libvpx's VP8
    row synchronisation spin-waits, so a preempted partner thread stalls the
    frame for a whole scheduler period. One thread already takes ~5 ms at 720p,
    well inside a 60 fps frame, and several sessions share these cores.
    """
    large = config.width * config.height >= 1280 * 720
    return 2 if large and cores.cores_per_session(config.host_sessions) >= 3 else 1


def _tuning(implementation: str, config: EncoderConfig, bitrate_bps: int) -> _Tuning:
    if implementation == "libx264":
        return _x264_tuning(config, bitrate_bps)
    if implementation == "h264_nvenc":
        return _nvenc_tuning(config, bitrate_bps)
    if implementation == "libvpx":
        return _vpx_tuning(config, bitrate_bps)
    raise UnknownCodecError(
        f"no encoder implementation {implementation!r}; "
        f"supported: {', '.join(sorted(IMPLEMENTATION_CODECS))}"
    )


def _set_bt709_limited(context: VideoCodecContext) -> None:
    """Signals BT.709, limited range in the VUI: the renderer's shader converts that way.

    Without it a decoder guesses (often BT.601 for SD-like sizes) and colours shift.
    """
    context.color_primaries = ColorPrimaries.BT709
    context.color_trc = ColorTrc.BT709
    context.colorspace = Colorspace.ITU709
    context.color_range = ColorRange.MPEG


def open_context(implementation: str, config: EncoderConfig, bitrate_bps: int) -> VideoCodecContext:
    """Creates and opens a codec context; raises `EncoderError` with libavcodec's reason."""
    tuning = _tuning(implementation, config, bitrate_bps)
    with _libav_errors() as messages:
        try:
            return _create_and_open(implementation, config, bitrate_bps, tuning)
        except av.FFmpegError as exc:
            said = "; ".join(message.strip() for _, _, message in messages)
            reason = f"{said} ({exc.strerror})" if said else str(exc)
            raise EncoderError(f"{implementation} did not open: {reason}") from exc


def _create_and_open(
    implementation: str, config: EncoderConfig, bitrate_bps: int, tuning: _Tuning
) -> VideoCodecContext:
    context = av.CodecContext.create(implementation, "w")
    if not isinstance(context, VideoCodecContext):
        raise EncoderError(f"{implementation} is not a video encoder")
    context.width = config.width
    context.height = config.height
    context.pix_fmt = "yuv420p"
    context.time_base = TIME_BASE
    context.framerate = Fraction(config.fps, 1)
    context.gop_size = KEYFRAME_INTERVAL_S * config.fps
    context.max_b_frames = 0
    context.bit_rate = bitrate_bps
    context.thread_count = tuning.thread_count
    context.thread_type = tuning.thread_type
    _set_bt709_limited(context)
    context.options = dict(tuning.options)
    context.open()
    return context


@contextmanager
def _libav_errors() -> Iterator[list[tuple[int, str, str]]]:
    """Collects libavcodec's error messages on this thread while opening.

    The exception alone says little ("Operation not permitted"); the log line
    says why ("Cannot load libcuda.so.1"). PyAV logs nothing unless a level is
    set, so one is set for the duration and restored afterwards.
    """
    previous_level = av.logging.get_level()
    previous_skip = av.logging.get_skip_repeated()
    if previous_level is None or previous_level < av.logging.ERROR:
        av.logging.set_level(av.logging.ERROR)
    av.logging.set_skip_repeated(False)  # the same failure twice must give the same reason
    try:
        with av.logging.Capture(local=True) as messages:
            yield messages
    finally:
        av.logging.set_skip_repeated(previous_skip)
        av.logging.set_level(previous_level)


def wrap_i420(i420: npt.NDArray[np.uint8], width: int, height: int) -> av.VideoFrame:
    """Wraps an I420 array as a frame without copying it.

    The frame's planes point into `i420` (PyAV's `from_numpy_buffer` for
    yuv420p, which takes U and V as half-stride planes after Y); the encoders
    copy the picture into their own buffers during `encode`, so the array only
    has to stay untouched until `encode` returns.
    """
    expected = (height * 3 // 2, width)
    if i420.shape != expected or i420.dtype != np.uint8:
        raise EncoderError(
            f"expected an I420 uint8 array of shape {expected}, got {i420.dtype} {i420.shape}"
        )
    if not i420.flags.c_contiguous:
        raise EncoderError("the I420 array must be C-contiguous (Y, then U, then V)")
    frame = av.VideoFrame.from_numpy_buffer(i420, format="yuv420p")
    frame.color_range = ColorRange.MPEG
    frame.colorspace = Colorspace.ITU709
    return frame


class PyAVEncoder(Encoder):
    """One libavcodec encoder (libx264, h264_nvenc or libvpx) for one stream.

    `set_target_bitrate` is applied before the next frame where the
    implementation reconfigures live (libx264, h264_nvenc). For libvpx it is
    kept pending and applied by opening a new encoder the next time a keyframe
    is forced: the new encoder's first frame is that keyframe, so the change
    costs no extra keyframe. Reopening on every estimate would send a keyframe
    each time (FIELD-NOTES trap 1).
    """

    def __init__(self, config: EncoderConfig, implementation: str) -> None:
        if implementation not in IMPLEMENTATION_CODECS:
            raise UnknownCodecError(
                f"no encoder implementation {implementation!r}; "
                f"supported: {', '.join(sorted(IMPLEMENTATION_CODECS))}"
            )
        self.codec = IMPLEMENTATION_CODECS[implementation]
        self.implementation = implementation
        self._config = config
        self._bitrate_bps = config.bitrate_bps
        self._pending_bitrate_bps: int | None = None
        self._live_bitrate = _tuning(implementation, config, config.bitrate_bps).live_bitrate
        self._context: VideoCodecContext | None = open_context(
            implementation, config, config.bitrate_bps
        )
        self._last_pts: int | None = None

    @property
    def target_bitrate_bps(self) -> int:
        """The bitrate the running encoder aims at."""
        return self._bitrate_bps

    @property
    def pending_bitrate_bps(self) -> int | None:
        """A target waiting for the next forced keyframe (libvpx only), else None."""
        return self._pending_bitrate_bps

    @property
    def bitrate_changes_live(self) -> bool:
        return self._live_bitrate

    def encode(
        self, i420: npt.NDArray[np.uint8], pts: int, force_keyframe: bool = False
    ) -> EncodedFrame:
        started = time.perf_counter()
        started_cpu = time.thread_time()
        context = self._require_open()
        self._check_pts(pts)
        if force_keyframe and self._pending_bitrate_bps is not None:
            context = self._reopen(self._pending_bitrate_bps)
        frame = wrap_i420(i420, self._config.width, self._config.height)
        frame.pts = pts
        frame.time_base = TIME_BASE
        if force_keyframe:
            frame.pict_type = PictureType.I
        try:
            packets = context.encode(frame)
        except av.FFmpegError as exc:
            raise EncoderError(f"{self.implementation} failed at pts {pts}: {exc}") from exc
        self._last_pts = pts
        return EncodedFrame(
            packets=packets,
            pts=pts,
            keyframe=any(packet.is_keyframe for packet in packets),
            encode_s=time.perf_counter() - started,
            size_bytes=sum(packet.size for packet in packets),
            encode_cpu_s=time.thread_time() - started_cpu,
        )

    def set_target_bitrate(self, bitrate_bps: int) -> None:
        """Clamps to [`MIN_BITRATE_BPS`, configured bitrate]: the configured one is the ceiling.

        The ceiling is where the VBV/CBR buffers were sized at open; libx264
        cannot raise its VBV maximum through PyAV once open.
        """
        target = max(MIN_BITRATE_BPS, min(bitrate_bps, self._config.bitrate_bps))
        if not self._live_bitrate:
            self._pending_bitrate_bps = None if target == self._bitrate_bps else target
            return
        self._require_open().bit_rate = target
        self._bitrate_bps = target

    def close(self) -> None:
        self._context = None  # libavcodec frees the encoder with the context

    def _require_open(self) -> VideoCodecContext:
        if self._context is None:
            raise EncoderError(f"{self.implementation} encoder is closed")
        return self._context

    def _check_pts(self, pts: int) -> None:
        """Refuses a timestamp that does not increase (FIELD-NOTES trap 2: libvpx stalls)."""
        if self._last_pts is not None and pts <= self._last_pts:
            raise EncoderError(f"pts {pts} does not increase (last was {self._last_pts})")

    def _reopen(self, bitrate_bps: int) -> VideoCodecContext:
        context = open_context(self.implementation, self._config, bitrate_bps)
        log.info(
            "encoder_reopened_for_bitrate",
            implementation=self.implementation,
            from_bps=self._bitrate_bps,
            to_bps=bitrate_bps,
        )
        self._context = context
        self._bitrate_bps = bitrate_bps
        self._pending_bitrate_bps = None
        return context
