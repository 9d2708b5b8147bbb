"""How many CPUs this process may really use: its affinity, narrowed by a cgroup CPU quota.

In a Kubernetes pod with `resources.limits.cpu: 2` on a 64-core node, the
affinity mask still lists all 64 cores; the limit is a CFS quota (`cpu.max` in
cgroup v2, `cpu.cfs_quota_us` / `cpu.cfs_period_us` in v1) that throttles the
pod once its threads together use two cores' worth of a period. An encoder
that sizes its threads from the affinity would start the most threads and be
throttled mid-frame. Each encoder's thread budget (issue 12) starts from this
number instead, and so does the software rasteriser's (`render.egl`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def affinity_cpus() -> int:
    """The CPUs this process may run on (its affinity, which cpusets narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def quota_cpus(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup in CPUs, or None when it has none.

    Reads the cgroup v2 file first (the container's own namespace root), then v1's.
    """
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        return None if quota == "max" else _ratio(quota, period or "100000")
    quota_v1 = _read(root / "cpu" / "cpu.cfs_quota_us") or _read(root / "cpu.cfs_quota_us")
    period_v1 = _read(root / "cpu" / "cpu.cfs_period_us") or _read(root / "cpu.cfs_period_us")
    if quota_v1 is None or period_v1 is None or quota_v1.startswith("-"):
        return None
    return _ratio(quota_v1, period_v1)


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """Whole CPUs to plan threads for: the affinity, capped by the quota rounded up."""
    cpus = affinity_cpus()
    quota = quota_cpus(root)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return cpus


def cores_per_session(host_sessions: int, cpus: int | None = None) -> int:
    """This session's share of the host's cores, at least one (issue 12).

    Every session renders and encodes on the same cores; a stage that starts
    more threads than its share only adds context switches and, for sliced
    encoders or llvmpipe's tile workers, waits on partners that another
    session has preempted.
    """
    return max(1, (cpus if cpus is not None else available_cpus()) // max(1, host_sessions))


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None  # a file we do not understand limits nothing we can plan for
    return q / p if q > 0 and p > 0 else None
