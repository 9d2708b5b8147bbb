"""Chooses the encoder for a stream: NVENC when it opens, else libx264; libvpx for VP8.

The choice is made by trying, not by guessing: PyAV's wheel always has
`h264_nvenc` compiled in, but it opens only with the NVIDIA driver and an
NVENC-capable card (FIELD-NOTES trap 16: H100/H200 have none). Why a fallback
happened is logged, so an operator who expected hardware encoding can see it.
"""

from __future__ import annotations

import structlog

from streamer.encode.base import Encoder, EncoderConfig, EncoderError, UnknownCodecError
from streamer.encode.pyav_encoder import PyAVEncoder

log = structlog.get_logger(__name__)

SUPPORTED_CODECS: tuple[str, ...] = ("h264", "vp8")
# The smallest frame every NVENC generation accepts is well below this; keep the probe cheap.
_PROBE_CONFIG = EncoderConfig(codec="h264", width=320, height=240, fps=30, bitrate_bps=500_000)


def create_encoder(config: EncoderConfig) -> Encoder:
    """Opens the best encoder for `config.codec`; raises `UnknownCodecError` for other codecs."""
    codec = config.codec.lower()
    if codec == "h264":
        return _create_h264(config)
    if codec == "vp8":
        return PyAVEncoder(config, "libvpx")
    raise UnknownCodecError(
        f"no encoder for codec {config.codec!r}; supported codecs: {', '.join(SUPPORTED_CODECS)}"
    )


def nvenc_available() -> tuple[bool, str]:
    """Whether `h264_nvenc` opens here, and why not: for tests and `/readyz`."""
    try:
        PyAVEncoder(_PROBE_CONFIG, "h264_nvenc").close()
    except EncoderError as exc:
        return False, str(exc)
    return True, "h264_nvenc opened"


def _create_h264(config: EncoderConfig) -> Encoder:
    if config.allow_hardware:
        try:
            return PyAVEncoder(config, "h264_nvenc")
        except EncoderError as exc:
            log.info("h264_nvenc unavailable", reason=str(exc), fallback="libx264")
    return PyAVEncoder(config, "libx264")
