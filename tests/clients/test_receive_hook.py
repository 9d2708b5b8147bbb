"""The client's jitter buffer hands a frame over when its marker packet completes it,
not one frame later; incomplete frames still wait. Pinned to the aiortc version."""

from __future__ import annotations

import aiortc
import aiortc.rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from ixclient.receive_hook import (
    SUPPORTED_AIORTC,
    MarkerJitterBuffer,
    WireTimestampMapper,
    install,
)


def packet(seq: int, ts: int, marker: bool, data: bytes) -> RtpPacket:
    p = RtpPacket(sequence_number=seq, timestamp=ts, marker=int(marker))
    p._data = data
    return p


def test_aiortc_is_the_version_the_hook_was_checked_against() -> None:
    assert aiortc.__version__ in SUPPORTED_AIORTC
    assert hasattr(aiortc.rtcrtpreceiver, "JitterBuffer")
    assert hasattr(JitterBuffer, "_remove_frame")
    assert hasattr(aiortc.rtcrtpreceiver, "TimestampMapper")


def test_wire_timestamps_are_kept_and_unwrapped() -> None:
    mapper = WireTimestampMapper()
    assert mapper.map(4_000_000_000) == 4_000_000_000
    assert mapper.map(4_000_003_000) == 4_000_003_000
    assert mapper.map(1_000) == (1 << 32) + 1_000  # wrapped
    assert mapper.map(4_000) == (1 << 32) + 4_000


def test_a_frame_is_released_on_its_marker_packet() -> None:
    buffer = MarkerJitterBuffer(capacity=128, is_video=True)
    assert buffer.add(packet(1, 3000, False, b"a"))[1] is None
    _, frame = buffer.add(packet(2, 3000, True, b"b"))
    assert frame is not None
    assert (frame.data, frame.timestamp) == (b"ab", 3000)


def test_stock_aiortc_holds_the_same_frame_until_the_next_one_starts() -> None:
    buffer = JitterBuffer(capacity=128, is_video=True)
    buffer.add(packet(1, 3000, False, b"a"))
    assert buffer.add(packet(2, 3000, True, b"b"))[1] is None
    assert buffer.add(packet(3, 6000, False, b"c"))[1] is not None


def test_a_frame_with_a_missing_packet_is_not_released() -> None:
    buffer = MarkerJitterBuffer(capacity=128, is_video=True)
    buffer.add(packet(1, 3000, False, b"a"))
    assert buffer.add(packet(3, 3000, True, b"c"))[1] is None
    _, frame = buffer.add(packet(2, 3000, False, b"b"))
    assert frame is not None
    assert frame.data == b"abc"


def test_a_lost_marker_falls_back_to_the_next_frame_boundary() -> None:
    buffer = MarkerJitterBuffer(capacity=128, is_video=True)
    buffer.add(packet(1, 3000, False, b"a"))
    _, frame = buffer.add(packet(2, 6000, False, b"b"))
    assert frame is not None
    assert frame.timestamp == 3000


def test_install_makes_new_receivers_use_it() -> None:
    install()
    assert aiortc.rtcrtpreceiver.JitterBuffer is MarkerJitterBuffer
    assert aiortc.rtcrtpreceiver.TimestampMapper is WireTimestampMapper
