"""The measured frame rate comes from two successive status polls of `frames_sent`,
and is unknown rather than wrong when the two polls cannot say."""

from __future__ import annotations

import pytest

from orchestrator.sessions.throughput import FrameSample, frame_rate


def test_the_rate_is_the_frames_sent_between_two_polls_over_the_time_between_them() -> None:
    assert frame_rate(FrameSample(100, 10.0), FrameSample(130, 11.0)) == pytest.approx(30.0)
    assert frame_rate(FrameSample(0, 10.0), FrameSample(0, 10.5)) == 0.0


def test_the_first_poll_has_no_rate_yet() -> None:
    assert frame_rate(None, FrameSample(50, 1.0)) is None


def test_a_counter_that_went_backwards_or_no_elapsed_time_gives_no_rate() -> None:
    assert frame_rate(FrameSample(500, 1.0), FrameSample(20, 2.0)) is None
    assert frame_rate(FrameSample(5, 1.0), FrameSample(9, 1.0)) is None
