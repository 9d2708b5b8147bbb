"""The CPUs a streamer plans threads for: its affinity, capped by a container's CPU quota.

cgroup files as a pod's container sees them (v2 `cpu.max`, v1 `cpu.cfs_*`), written
to a temporary root; the real `/sys/fs/cgroup` of this machine is read last.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streamer import cores


def cgroup(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "200000 100000"}, 2.0),  # limits.cpu: 2
        ({"cpu.max": "150000 100000"}, 1.5),  # limits.cpu: 1500m
        ({"cpu.max": "max 100000"}, None),  # no limit
        ({"cpu/cpu.cfs_quota_us": "300000", "cpu/cpu.cfs_period_us": "100000"}, 3.0),  # v1
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),  # v1, none
        ({"cpu.max": "lots 100000"}, None),  # not a number: nothing to plan for
        ({}, None),  # no cgroup files at all (not Linux, or not mounted)
    ],
)
def test_the_quota_is_read_from_either_cgroup_version(
    tmp_path: Path, files: dict[str, str], quota: float | None
) -> None:
    assert cores.quota_cpus(cgroup(tmp_path, files)) == quota


def test_a_quota_caps_the_affinity_rounded_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cores, "affinity_cpus", lambda: 64)  # a big node's every core
    assert cores.available_cpus(cgroup(tmp_path / "a", {"cpu.max": "150000 100000"})) == 2
    assert cores.available_cpus(cgroup(tmp_path / "b", {"cpu.max": "50000 100000"})) == 1
    assert cores.available_cpus(cgroup(tmp_path / "c", {"cpu.max": "max 100000"})) == 64


def test_a_quota_above_the_affinity_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cores, "affinity_cpus", lambda: 2)
    assert cores.available_cpus(cgroup(tmp_path, {"cpu.max": "800000 100000"})) == 2


def test_this_machine_gives_at_least_one_cpu_and_no_more_than_it_has() -> None:
    import os

    assert 1 <= cores.available_cpus() <= (os.cpu_count() or 1)
