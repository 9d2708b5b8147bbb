"""The encode stage: one encoder per codec in use, each frame encoded once per codec.

Viewers may decode different codecs (a browser that only takes VP8 next to
one that takes H.264), but the cost of a viewer must stay one packetise and
encrypt, never another encode (DESIGN §2: encode once, send to many). So the
stage holds at most one encoder per codec, whatever the number of viewers:

- the session's preferred codec's encoder opens at start-up (its warm-up
  frame keeps encoder start-up out of the first viewer's wait, and `/readyz`
  reports it) and stays open;
- another codec's encoder opens when the first viewer of that codec arrives,
  its first frame a keyframe, and closes when that codec's last viewer leaves;
- each frame goes through every codec that is wanted, preferred first.

Keyframe requests and bitrate targets are per codec: a PLI from a VP8 viewer
must not cost every H.264 viewer a keyframe. The pipeline's timestamps
strictly increase, so every encoder sees strictly increasing ones, including
one opened mid-stream (FIELD-NOTES trap 2). Not thread-safe: the pipeline
thread owns it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import structlog

from streamer.encode.base import EncodedFrame, Encoder, EncoderConfig

log = structlog.get_logger(__name__)

OpenEncoder = Callable[[EncoderConfig], Encoder]


class EncoderSet:
    """The open encoders, by codec. `config.codec` is the session's preferred codec."""

    def __init__(self, config: EncoderConfig, open_encoder: OpenEncoder) -> None:
        self._config = config
        self._open_encoder = open_encoder
        self._encoders: dict[str, Encoder] = {}
        self._targets: dict[str, int] = {}

    @property
    def preferred(self) -> str:
        return self._config.codec

    @property
    def open_codecs(self) -> tuple[str, ...]:
        """The codecs with an open encoder, preferred first."""
        return tuple(self._encoders)

    def implementation(self, codec: str) -> str:
        """What encodes `codec` (e.g. "libx264"), or "" when it is not open."""
        encoder = self._encoders.get(codec)
        return encoder.implementation if encoder is not None else ""

    def warm_up(self, i420: npt.NDArray[np.uint8]) -> str:
        """Opens the preferred codec's encoder and encodes one frame at pts 0; its name."""
        encoder = self._open(self.preferred)
        encoder.encode(i420, pts=0, force_keyframe=True)
        return encoder.implementation

    def set_target_bitrate(self, codec: str, bitrate_bps: int) -> None:
        """Applies a codec's bitrate target now, or when its encoder opens."""
        self._targets[codec] = bitrate_bps
        encoder = self._encoders.get(codec)
        if encoder is not None:
            encoder.set_target_bitrate(bitrate_bps)

    def encode(
        self,
        wanted: Collection[str],
        i420: npt.NDArray[np.uint8],
        pts: int,
        keyframes: Mapping[str, Collection[str]],
    ) -> Iterator[tuple[str, EncodedFrame]]:
        """Encodes one frame once per wanted codec, preferred first, yielding each at once.

        A codec's frame is a keyframe when `keyframes[codec]` names a reason or
        its encoder has just opened. Encoders no longer wanted (bar the
        preferred one) close first. Yielding as each encode finishes lets the
        caller hand one codec's packets to its viewers while the next encodes.
        """
        self._close_unwanted(wanted)
        for codec in self._order(wanted):
            opened = codec not in self._encoders
            encoder = self._open(codec) if opened else self._encoders[codec]
            force = opened or bool(keyframes.get(codec))
            yield codec, encoder.encode(i420, pts, force_keyframe=force)

    def close(self) -> None:
        for encoder in self._encoders.values():
            encoder.close()
        self._encoders.clear()

    def _order(self, wanted: Collection[str]) -> list[str]:
        return sorted(set(wanted), key=lambda codec: (codec != self.preferred, codec))

    def _open(self, codec: str) -> Encoder:
        encoder = self._open_encoder(replace(self._config, codec=codec))
        target = self._targets.get(codec)
        if target is not None:
            encoder.set_target_bitrate(target)
        self._encoders[codec] = encoder
        log.info("encoder_opened", codec=codec, implementation=encoder.implementation)
        return encoder

    def _close_unwanted(self, wanted: Collection[str]) -> None:
        for codec in [c for c in self._encoders if c not in wanted and c != self.preferred]:
            self._encoders.pop(codec).close()
            self._targets.pop(codec, None)  # a later viewer of it starts from the ceiling again
            log.info("encoder_closed", codec=codec)
