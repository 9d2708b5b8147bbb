"""Encoder threads from the host's cores and the sessions sharing them (issue 12).

A table of (cores, sessions) → threads for x264 and libvpx, and a real libx264
opened with the budget it was given.
"""

from __future__ import annotations

import numpy as np
import pytest

from streamer import cores
from streamer.cores import cores_per_session
from streamer.encode.base import EncoderConfig
from streamer.encode.pyav_encoder import PyAVEncoder, encoder_threads

CASES = [  # cores, sessions, x264 threads
    (2, 1, 2),
    (2, 2, 1),
    (2, 4, 1),
    (16, 1, 4),
    (16, 4, 4),
    (16, 8, 2),
    (16, 32, 1),
    (1, 1, 1),
]


@pytest.mark.parametrize(("cpus", "sessions", "threads"), CASES)
def test_x264_gets_the_sessions_share_of_the_cores(cpus: int, sessions: int, threads: int) -> None:
    assert encoder_threads(sessions, cpus) == threads


def test_a_session_always_gets_at_least_one_core() -> None:
    assert cores_per_session(100, cpus=2) == 1


def test_the_encoder_opens_with_its_thread_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cores, "available_cpus", lambda: 2)
    shared = PyAVEncoder(EncoderConfig("h264", 320, 240, 30, host_sessions=4), "libx264")
    alone = PyAVEncoder(EncoderConfig("h264", 320, 240, 30, host_sessions=1), "libx264")
    frame = np.full((360, 320), 128, dtype=np.uint8)
    for encoder in (shared, alone):
        assert encoder.encode(frame, pts=1, force_keyframe=True).keyframe
    assert shared._require_open().thread_count == 1
    assert alone._require_open().thread_count == 2


@pytest.mark.parametrize(("cpus", "sessions", "threads"), [(4, 1, 2), (4, 2, 1), (2, 1, 1)])
def test_vp8_takes_a_second_thread_only_with_three_cores_to_itself(
    monkeypatch: pytest.MonkeyPatch, cpus: int, sessions: int, threads: int
) -> None:
    from streamer.encode import pyav_encoder

    monkeypatch.setattr(cores, "available_cpus", lambda: cpus)
    config = EncoderConfig("vp8", 1280, 720, 30, host_sessions=sessions)
    assert pyav_encoder._vpx_threads(config) == threads
