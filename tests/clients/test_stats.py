"""Latency bookkeeping: percentiles and motion-to-photon as the protocol defines it."""

from __future__ import annotations

from ixclient.stats import MotionToPhoton, percentile, summary


def test_percentiles_use_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([], 50) is None
    assert summary([3.0])["p95"] == 3.0


def test_every_input_waits_until_the_first_frame_that_applied_it() -> None:
    m2p = MotionToPhoton()
    m2p.input_sent(1, 100.0)
    m2p.input_sent(2, 110.0)  # superseded before any frame applied seq 1
    m2p.input_sent(3, 120.0)
    m2p.frame_displayed(2, 130.0)
    m2p.frame_displayed(2, 140.0)  # same input again: not a new sample
    m2p.frame_displayed(3, 135.0)
    assert m2p.samples_ms == [30.0, 20.0, 15.0]


def test_frames_without_input_add_no_samples() -> None:
    m2p = MotionToPhoton()
    m2p.input_sent(1, 0.0)
    m2p.frame_displayed(None, 10.0)
    assert m2p.samples_ms == []
