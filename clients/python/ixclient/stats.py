"""Latency bookkeeping for the headless client: pure, clock passed in."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(
    values: list[float], quantiles: tuple[int, ...] = (50, 95)
) -> dict[str, float | int | None]:
    """`{"p50": …, "p95": …, "samples": n}` (other quantiles on request), rounded to 0.01."""
    result: dict[str, float | int | None] = {}
    for q in quantiles:
        value = percentile(values, q)
        result[f"p{q}"] = None if value is None else round(value, 2)
    result["samples"] = len(values)
    return result


@dataclass
class MotionToPhoton:
    """Input sent at t0 with seq N → the first displayed frame that applied seq ≥ N, at t1.

    Every input counts, also one superseded by a newer sample before any frame
    used it: its wait ends at the same frame, later than the newer one's.
    Both times are on the client's clock alone.
    """

    sent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=4096))
    samples_ms: list[float] = field(default_factory=list)

    def input_sent(self, seq: int, t_ms: float) -> None:
        self.sent.append((seq, t_ms))

    def frame_displayed(self, applied_seq: int | None, t_ms: float) -> None:
        if applied_seq is None:
            return
        while self.sent and self.sent[0][0] <= applied_seq:
            _, t0 = self.sent.popleft()
            self.samples_ms.append(t_ms - t0)
