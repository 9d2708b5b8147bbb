"""Records a session's video by muxing the packets the encoder already made.

The encoder runs once per session and its packets go to every viewer; the
recording is one more consumer of the same packets, so recording costs a
muxer's bookkeeping, not a second encode. Nothing here decodes or encodes: the
file holds the encoder's own bitstream (see the tests, which compare it).

Containers follow the codec, not the caller's wish:

- H.264 goes into MP4 (ISO/IEC 14496-15). Our encoders (libx264, h264_nvenc)
  emit Annex B with SPS/PPS in-band before every IDR and no global header. MP4
  wants an `avcC` record in the sample description and length-prefixed NAL
  units in the samples. PyAV (18.1) finds the `avcC` source itself: before
  writing the header of a global-header format it runs FFmpeg's
  `extract_extradata` bitstream filter over a stream's first packet, which is
  why the recording must start at a keyframe. FFmpeg's MP4 muxer then builds
  `avcC` from those parameter sets (`ff_isom_write_avcc`) and rewrites each
  sample's start codes as 4-byte lengths; the NAL units themselves are
  copied unchanged, in-band SPS/PPS included.
- VP8 goes into WebM (MP4 has no VP8 mapping). It needs no codec private data;
  packets are stored byte for byte.

Timing is the stream's own (the 90 kHz RTP video clock, `VIDEO_CLOCK_HZ`),
moved so that the recording's first frame is at 0 and rescaled to whatever time
base the muxer chose (MP4 keeps 1/90000, WebM forces 1/1000). Gaps stay gaps:
a paused or slow stream plays back as it was sent.

A `Recorder` is not thread-safe: the pipeline thread, which owns the encoder,
owns it too and calls `write` right after each `encode`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import structlog
from av.container import OutputContainer

from streamer.encode.base import VIDEO_CLOCK_HZ, EncodedFrame

log = structlog.get_logger(__name__)

RecordedCodec = Literal["h264", "vp8"]

CLOCK = Fraction(1, VIDEO_CLOCK_HZ)


@dataclass(frozen=True, slots=True)
class _Container:
    """Where one codec is stored: FFmpeg's muxer name, the file suffix, the media type."""

    format: str
    suffix: str
    media_type: str


# MP4 for H.264 (ISO/IEC 14496-15), WebM for VP8 (the WebM container guidelines).
_CONTAINERS: dict[str, _Container] = {
    "h264": _Container(format="mp4", suffix=".mp4", media_type="video/mp4"),
    "vp8": _Container(format="webm", suffix=".webm", media_type="video/webm"),
}


class RecorderError(Exception):
    """The recording could not be opened, written or finalised."""


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    """What a closed recording holds.

    `frames` were muxed; `skipped` were handed to `write` but are not in the
    file (before the first keyframe, without packets, or with a timestamp that
    did not increase). With `frames == 0` no file exists at `path`.
    """

    path: Path
    frames: int
    duration_s: float
    size_bytes: int
    skipped: int


class Recorder:
    """Muxes one stream's `EncodedFrame`s into an MP4 (H.264) or WebM (VP8) file.

    The file is opened for writing at construction, so a path that cannot be
    written fails here (`RecorderError`) rather than at the first frame; an
    existing file is replaced. `path` must end in `suffix_for(codec)`. Frames
    before the first keyframe are skipped: a decoder could not start on them,
    and for H.264 the first keyframe carries the SPS/PPS the MP4 header needs.
    `close()` writes the index (the MP4 `moov` box, WebM cues); until then the
    file does not play. Not thread-safe: use it from the pipeline thread only.
    """

    def __init__(self, path: Path, codec: RecordedCodec, width: int, height: int, fps: int) -> None:
        container = _container_for(codec)
        if path.suffix != container.suffix:
            raise RecorderError(
                f"a {codec} recording is {container.format}: the path must end in "
                f"{container.suffix!r}, got {path.name!r}"
            )
        if width <= 0 or height <= 0 or fps <= 0:
            raise RecorderError(f"bad recording geometry {width}x{height} at {fps} fps")
        self.path = path
        self.codec: RecordedCodec = codec
        self._frame_ticks = max(1, round(VIDEO_CLOCK_HZ / fps))
        _check_writable(path)
        try:
            self._output: OutputContainer | None = av.open(str(path), "w", format=container.format)
            self._stream = self._output.add_mux_stream(codec, rate=fps, width=width, height=height)
        except (av.FFmpegError, ValueError) as exc:
            path.unlink(missing_ok=True)
            raise RecorderError(f"cannot record {codec} into {path}: {exc}") from exc
        # MP4 keeps the RTP clock as its timescale; WebM replaces it with 1/1000 at the header.
        self._stream.time_base = CLOCK
        self._origin: int | None = None  # 90 kHz time of the first recorded packet
        self._last_dts: int | None = None  # in the stream's time base
        self._end_ticks = 0  # 90 kHz, relative to the origin: where the last frame ends
        self._frames = 0
        self._skipped = 0
        self._summary: RecordingSummary | None = None

    @staticmethod
    def suffix_for(codec: str) -> str:
        """The file suffix a `codec` recording must have: ".mp4" (H.264) or ".webm" (VP8)."""
        return _container_for(codec).suffix

    @staticmethod
    def media_type_for(codec: str) -> str:
        """The Content-Type to serve a `codec` recording with."""
        return _container_for(codec).media_type

    @property
    def frames(self) -> int:
        return self._frames

    @property
    def skipped(self) -> int:
        return self._skipped

    def write(self, frame: EncodedFrame) -> None:
        """Muxes one encoded frame, or counts it as skipped (see `RecordingSummary`).

        The encoder's packets are copied, not muxed themselves: muxing rewrites
        a packet's timestamps and stream index in place, and the same packets
        go to the RTP senders.
        """
        output = self._require_open()
        if not frame.packets or (self._origin is None and not frame.keyframe):
            self._skipped += 1
            return
        if self._origin is None:
            self._origin = _dts_ticks(frame.packets[0], frame)
            log.info("recording_started", path=str(self.path), codec=self.codec, pts=frame.pts)
        muxed = False
        for packet in frame.packets:
            muxed = self._mux(output, packet, frame) or muxed
        if muxed:
            self._frames += 1
        else:
            self._skipped += 1

    def close(self) -> RecordingSummary:
        """Finalises the file and says what it holds; later calls return the same summary.

        With no frame recorded nothing was written, so the file is removed and
        the summary says `frames=0`.
        """
        if self._summary is not None:
            return self._summary
        output, self._output = self._output, None
        if output is not None:
            try:
                output.close()  # writes the trailer (moov / cues) when the header was written
            except av.FFmpegError as exc:
                raise RecorderError(f"cannot finalise {self.path}: {exc}") from exc
        if self._frames == 0:
            self.path.unlink(missing_ok=True)
        self._summary = RecordingSummary(
            path=self.path,
            frames=self._frames,
            duration_s=self._end_ticks / VIDEO_CLOCK_HZ if self._frames else 0.0,
            size_bytes=self.path.stat().st_size if self._frames else 0,
            skipped=self._skipped,
        )
        log.info("recording_closed", **_log_fields(self._summary))
        return self._summary

    def _mux(self, output: OutputContainer, packet: av.Packet[Any], frame: EncodedFrame) -> bool:
        """Muxes a copy of `packet`; drops it (False) when its dts would not increase.

        Muxers refuse a dts that does not increase (MP4 needs it strictly
        increasing); the check is made in the stream's time base because WebM's
        1/1000 can merge two 90 kHz times.
        """
        assert self._origin is not None
        time_base = self._stream.time_base or CLOCK
        dts_ticks = _dts_ticks(packet, frame) - self._origin
        pts_ticks = _pts_ticks(packet, frame) - self._origin
        dts = _rescale(dts_ticks, time_base)
        if self._last_dts is not None and dts <= self._last_dts:
            log.warning(
                "recording_packet_dropped",
                path=str(self.path),
                reason="timestamp does not increase",
                pts=frame.pts,
            )
            return False
        copy = av.Packet(bytes(packet))
        copy.stream = self._stream
        copy.time_base = time_base
        copy.dts = dts
        copy.pts = _rescale(pts_ticks, time_base)
        copy.duration = _rescale(self._frame_ticks, time_base)
        copy.is_keyframe = packet.is_keyframe
        try:
            output.mux(copy)
        except av.FFmpegError as exc:
            raise RecorderError(f"cannot write to {self.path}: {exc}") from exc
        self._last_dts = _rescale(dts_ticks, self._stream.time_base or CLOCK)
        self._end_ticks = max(self._end_ticks, pts_ticks + self._frame_ticks)
        return True

    def _require_open(self) -> OutputContainer:
        if self._output is None:
            raise RecorderError(f"the recording {self.path} is closed")
        return self._output


def _container_for(codec: str) -> _Container:
    try:
        return _CONTAINERS[codec]
    except KeyError:
        raise RecorderError(
            f"no container for codec {codec!r}; recordable codecs: {', '.join(_CONTAINERS)}"
        ) from None


def _check_writable(path: Path) -> None:
    """Creates (or empties) the file now, so a bad path fails at construction.

    FFmpeg would only open it when the first packet is muxed, i.e. when the
    trainee is already streaming.
    """
    try:
        with path.open("wb"):
            pass
    except OSError as exc:
        raise RecorderError(f"cannot write a recording at {path}: {exc.strerror or exc}") from exc


def _ticks(value: int, time_base: Fraction | None) -> int:
    """`value` in `time_base` as 90 kHz ticks (the encoder's packets use 1/90000 already)."""
    if not time_base or time_base == CLOCK:
        return value
    return _rescale_q(value, time_base, CLOCK)


def _pts_ticks(packet: av.Packet[Any], frame: EncodedFrame) -> int:
    """The packet's own pts when it has one, else the frame's (both on the 90 kHz clock)."""
    if packet.pts is None:
        return frame.pts
    return _ticks(packet.pts, packet.time_base)


def _dts_ticks(packet: av.Packet[Any], frame: EncodedFrame) -> int:
    """The packet's dts, else its pts: our encoders make no B-frames, so they are equal."""
    if packet.dts is None:
        return _pts_ticks(packet, frame)
    return _ticks(packet.dts, packet.time_base)


def _rescale(ticks: int, time_base: Fraction) -> int:
    """90 kHz `ticks` in `time_base`."""
    return _rescale_q(ticks, CLOCK, time_base)


def _rescale_q(value: int, source: Fraction, target: Fraction) -> int:
    """`value` from `source` to `target` units, rounded half away from zero like `av_rescale_q`."""
    exact = value * source / target
    magnitude = math.floor(abs(exact) + Fraction(1, 2))
    return magnitude if exact >= 0 else -magnitude


def _log_fields(summary: RecordingSummary) -> dict[str, object]:
    return {
        "path": str(summary.path),
        "frames": summary.frames,
        "duration_s": round(summary.duration_s, 3),
        "size_bytes": summary.size_bytes,
        "skipped": summary.skipped,
    }
