"""BitrateController: from noisy per-viewer estimates to a few encoder changes.

Covers: the slowest recent viewer sets the target; a viewer that stops
reporting or leaves stops counting; estimates are clamped to [min, max];
drops are followed within about a second, rises more slowly; noise within the
hysteresis band changes nothing; changes are at least `min_interval_s` apart;
a receiver's ramp-up costs a handful of changes, not one per report. The clock
is a plain number that the tests move forward.
"""

from __future__ import annotations

import itertools

import numpy as np

from streamer.encode.bitrate import BitrateController, BitrateSettings

SETTINGS = BitrateSettings(min_bps=300_000, max_bps=8_000_000)


def controller(start_bps: int = 4_000_000) -> BitrateController:
    return BitrateController(start_bps=start_bps, now_s=0.0, settings=SETTINGS)


def feed(
    ctl: BitrateController, viewer: str, estimates: list[int], start_s: float, every_s: float = 0.5
) -> list[tuple[float, int]]:
    """Reports `estimates` one per `every_s`; returns (time, new target) for each change."""
    changes = []
    for i, estimate in enumerate(estimates):
        now = start_s + i * every_s
        target = ctl.report(viewer, estimate, now)
        if target is not None:
            changes.append((now, target))
    return changes


def test_a_drop_is_followed_within_about_a_second() -> None:
    ctl = controller(4_000_000)
    changes = feed(ctl, "a", [1_000_000] * 4, start_s=0.5)
    assert changes
    first_change_s, target = changes[0]
    assert first_change_s <= 1.0
    assert abs(ctl.target_bps - 1_000_000) < 0.1 * 1_000_000
    assert target < 2_000_000


def test_a_rise_is_followed_more_slowly_than_a_drop() -> None:
    down, up = controller(4_000_000), controller(1_000_000)
    feed(down, "a", [1_000_000] * 3, start_s=0.5)
    feed(up, "a", [4_000_000] * 3, start_s=0.5)
    fraction_down = (4_000_000 - down.smoothed_bps) / 3_000_000
    fraction_up = (up.smoothed_bps - 1_000_000) / 3_000_000
    assert fraction_down > 0.9
    assert 0.1 < fraction_up < 0.5


def test_a_rise_is_eventually_followed_to_the_estimate() -> None:
    ctl = controller(1_000_000)
    feed(ctl, "a", [4_000_000] * 40, start_s=0.5)
    assert abs(ctl.target_bps - 4_000_000) <= 0.15 * 4_000_000


def test_noise_within_the_hysteresis_band_changes_nothing() -> None:
    ctl = controller(3_000_000)
    noise = np.random.default_rng(1).uniform(-0.1, 0.1, 120)
    changes = feed(ctl, "a", [round(3_000_000 * (1 + n)) for n in noise], start_s=0.5)
    assert changes == []
    assert ctl.target_bps == 3_000_000


def test_changes_are_at_least_the_minimum_interval_apart() -> None:
    ctl = controller(8_000_000)
    steps = [4_000_000] * 5 + [2_000_000] * 5 + [1_000_000] * 5 + [500_000] * 5
    changes = feed(ctl, "a", steps, start_s=0.1, every_s=0.2)
    times = [t for t, _ in changes]
    assert len(times) >= 3
    assert all(b - a >= SETTINGS.min_interval_s for a, b in itertools.pairwise(times))


def test_a_rise_waits_longer_after_a_change_than_a_drop() -> None:
    ctl = controller(8_000_000)
    swings = [500_000, 8_000_000] * 30
    changes = feed(ctl, "a", swings, start_s=0.1, every_s=0.2)
    for (t0, before), (t1, after) in itertools.pairwise(changes):
        if after > before:
            assert t1 - t0 >= SETTINGS.min_rise_interval_s
        else:
            assert t1 - t0 >= SETTINGS.min_interval_s
    assert any(b > a for (_, a), (_, b) in itertools.pairwise(changes))


def test_a_receiver_ramp_up_costs_a_handful_of_changes_not_one_per_report() -> None:
    """A congestion controller's start: 300 kbps, +8 % per report, reports every 0.5 s, 25 s."""
    ramp = [min(8_000_000, round(300_000 * 1.08**i)) for i in range(50)]
    noise = np.random.default_rng(2).uniform(-0.05, 0.05, 50)
    ctl = controller(300_000)
    changes = feed(ctl, "a", [round(r * (1 + n)) for r, n in zip(ramp, noise, strict=True)], 0.5)
    reports_over_ten_percent = sum(1 for a, b in itertools.pairwise(ramp) if b > a * 1.1)
    assert len(changes) <= 10
    assert len(changes) < len(ramp) // 3
    assert reports_over_ten_percent == 0  # the ramp itself is gradual; every change is ours
    assert changes[-1][1] > 3_000_000


def test_the_slowest_recent_viewer_sets_the_target() -> None:
    ctl = controller(4_000_000)
    for i in range(10):
        now = 0.5 + i * 0.5
        ctl.report("fast", 6_000_000, now)
        ctl.report("slow", 1_200_000, now + 0.01)
    assert ctl.viewers == {"fast", "slow"}
    assert abs(ctl.target_bps - 1_200_000) < 0.15 * 1_200_000


def test_a_viewer_that_stops_reporting_stops_holding_the_stream_down() -> None:
    ctl = controller(4_000_000)
    feed(ctl, "slow", [1_000_000] * 4, start_s=0.5)
    assert ctl.target_bps < 1_150_000
    feed(ctl, "fast", [6_000_000] * 60, start_s=2.5)  # 30 s; "slow" is silent after 2 s
    assert ctl.viewers == {"fast"}
    assert ctl.target_bps > 5_000_000


def test_a_viewer_is_still_counted_just_within_the_timeout() -> None:
    ctl = controller(4_000_000)
    ctl.report("slow", 1_000_000, 1.0)
    ctl.report("fast", 6_000_000, 1.0 + SETTINGS.viewer_timeout_s)
    assert ctl.viewers == {"slow", "fast"}
    ctl.update(1.0 + SETTINGS.viewer_timeout_s + 0.1)
    assert ctl.viewers == {"fast"}


def test_a_viewer_that_leaves_is_forgotten_at_once() -> None:
    ctl = controller(4_000_000)
    ctl.report("slow", 1_000_000, 0.5)
    ctl.report("fast", 4_000_000, 0.6)
    ctl.forget("slow", 0.7)
    assert ctl.viewers == {"fast"}


def test_without_viewers_the_target_stays_where_it_is() -> None:
    ctl = controller(2_000_000)
    assert ctl.update(10.0) is None
    assert ctl.update(100.0) is None
    assert ctl.target_bps == 2_000_000


def test_estimates_are_clamped_to_the_bounds_and_reach_them() -> None:
    low, high = controller(1_000_000), controller(4_000_000)
    feed(low, "a", [10_000] * 10, start_s=0.5)
    feed(high, "a", [100_000_000] * 60, start_s=0.5)
    assert low.target_bps == SETTINGS.min_bps
    assert high.target_bps == SETTINGS.max_bps


def test_the_start_value_is_clamped_too() -> None:
    assert controller(50_000_000).target_bps == SETTINGS.max_bps
    assert controller(1).target_bps == SETTINGS.min_bps


def test_reports_are_smoothed_by_time_not_by_how_many_arrive() -> None:
    sparse, dense = controller(4_000_000), controller(4_000_000)
    feed(sparse, "a", [8_000_000] * 3, start_s=1.0, every_s=1.0)
    feed(dense, "a", [8_000_000] * 21, start_s=1.0, every_s=0.1)
    assert abs(sparse.smoothed_bps - dense.smoothed_bps) < 0.01 * dense.smoothed_bps
