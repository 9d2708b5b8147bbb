"""How many warm pods the pool wants: Agones' FleetAutoscaler buffer policy, pure.

The policy keeps a buffer of ready, unclaimed streamers on top of those serving
sessions, so a session starts by a claim, not by a pod start (and, on a cluster with an
autoscaler, by a node start). The buffer is either

- a size: `bound + size` pods in all, whatever the demand; or
- a percentage: the share of all pods that stays warm, so the buffer grows with
  demand. Agones computes the total as `ceil(bound * 100 / (100 - percent))`
  (fleetautoscalers.go, applyBufferPolicy); so do we.

Either total is clamped to `[minimum, maximum]` and never takes away a pod that serves
a session. A size suits a steady site; a percentage a site whose demand swings over the
day (a dozen sessions at night, hundreds at the peak), where a fixed buffer is either
too small at the peak or wasteful at night.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BufferPolicy:
    """`size` warm pods, or (when `percent` is set) that share of all pods; the total
    (warm + bound) within `minimum` and `maximum`."""

    size: int
    minimum: int
    maximum: int
    percent: int | None = None

    def __post_init__(self) -> None:
        if self.size < 0 or self.minimum < 0 or self.minimum > self.maximum:
            raise ValueError(f"an impossible buffer policy: {self}")
        if self.percent is not None and not 0 < self.percent < 100:
            raise ValueError(f"a buffer percentage lies strictly between 0 and 100: {self}")


def desired_total(policy: BufferPolicy, bound: int) -> int:
    """All pods wanted (warm + bound) when `bound` pods serve sessions."""
    if policy.percent is None:
        total = bound + policy.size
    else:
        total = math.ceil(bound * 100 / (100 - policy.percent))
        # A percentage of nothing is nothing: keep at least one warm pod, as Agones
        # does when it rounds up, unless the minimum says otherwise.
        total = max(total, bound + 1)
    return min(max(total, policy.minimum), policy.maximum)


def warm_wanted(policy: BufferPolicy, bound: int) -> int:
    """Warm pods wanted: the total less the bound ones, never negative (pods that serve
    sessions are never taken away, even above `maximum`)."""
    return max(0, desired_total(policy, bound) - bound)
