"""The Encoder seam: I420 frames in, codec packets out, one encoder per stream.

One encoder serves every viewer of its codec in a session (encode once, send
to many; `streamer.encode.stage` holds one per codec in use), so keyframe
requests and bitrate targets arrive from several peers and are merged by the
caller before they reach it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import numpy.typing as npt

VIDEO_CLOCK_HZ = 90_000  # RTP video clock (RFC 6184 §8.2.1, RFC 7741 §4.1)


class EncoderError(Exception):
    """The encoder could not be opened or failed on a frame."""


class UnknownCodecError(EncoderError):
    """A codec name that no encoder here implements."""


@dataclass(frozen=True, slots=True)
class EncoderConfig:
    codec: str  # "h264" | "vp8"
    width: int
    height: int
    fps: int
    bitrate_bps: int = 8_000_000
    allow_hardware: bool = True  # try h264_nvenc first when the codec is H.264
    host_sessions: int = 1  # sessions sharing this host's cores: each encoder's thread budget


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """The packets for one input frame; `pts` is in 1/90000 s (RTP video clock)."""

    packets: list[av.Packet[Any]]
    pts: int
    keyframe: bool
    encode_s: float
    size_bytes: int
    encode_cpu_s: float = 0.0
    """CPU time of the calling thread (the encoder's own threads are billed apart)."""


class Encoder(ABC):
    """Encodes I420 frames. Not thread-safe: the pipeline thread owns it."""

    codec: str  # "h264" | "vp8": what goes into the SDP
    implementation: str  # e.g. "libx264", "h264_nvenc", "libvpx"

    @abstractmethod
    def encode(
        self, i420: npt.NDArray[np.uint8], pts: int, force_keyframe: bool = False
    ) -> EncodedFrame:
        """Encodes one frame; `pts` strictly increases (libvpx rejects anything else)."""

    @abstractmethod
    def set_target_bitrate(self, bitrate_bps: int) -> None:
        """Applies a (smoothed) bandwidth estimate where the codec can change rate live."""

    @abstractmethod
    def close(self) -> None: ...
