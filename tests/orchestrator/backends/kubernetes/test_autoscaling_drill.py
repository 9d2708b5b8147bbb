"""The autoscaling drill (`bench.autoscaling`), shortened to a six-second day: on the
simulator with its cluster autoscaler model, the orchestrator serves every request
(warm, cold or queued, none lost), the autoscaler adds GPU nodes for the peak and
removes them after it, placeholders are preempted for streamers, and the warm pool
serves a good share."""

from __future__ import annotations

from pathlib import Path

from bench.autoscaling import SCENARIOS, Day, arrivals, demand, run_scenario


def test_the_day_curve_is_quiet_at_night_and_peaks_in_the_afternoon() -> None:
    assert demand(3) == demand(23) == 0.05
    assert demand(14) == 1.0
    assert demand(8) < demand(11) < demand(13)
    day = Day(day_s=6.0, peak_sessions=8, session_s=1.0)
    times = arrivals(day)
    assert times == arrivals(day)  # the same arrivals for every scenario
    afternoon = [t for t in times if 13 <= 24 * t / day.day_s <= 16]
    night = [t for t in times if 24 * t / day.day_s <= 3]
    assert len(afternoon) > 3 * max(1, len(night))


async def test_a_short_day_is_served_and_the_cluster_grows_for_the_peak_and_shrinks_after(
    tmp_path: Path,
) -> None:
    day = Day(day_s=6.0, peak_sessions=12, session_s=1.0, node_start_s=0.3, unneeded_s=0.5)
    times = arrivals(day)
    packed = next(s for s in SCENARIOS if s.name == "buffer_packed")
    result = await run_scenario(packed, day, times, tmp_path)
    assert result["failed"] == 0
    assert result["warm"] + result["cold"] + result["queued"] == result["requests"] == len(times)
    assert result["nodes_added"] >= 2  # 12 sessions at the peak need 3 nodes of 4 GPUs
    assert result["nodes_removed"] >= 1
    assert result["gpu_nodes_at_day_end"] < result["peak_gpu_nodes"]
    assert result["placeholders_preempted"] >= 1
    # The warm pool serves a good share even of this steep a day (the full drill, with a
    # gentler ramp, serves about four in five warm: `python -m bench.kubernetes
    # autoscaling_drill`).
    assert result["warm"] * 4 >= result["requests"]
