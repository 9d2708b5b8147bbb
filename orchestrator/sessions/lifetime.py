"""When a running session should be ended for being idle or too long (DESIGN.md §3).

A pure decision over timestamps, so it is tested with a clock moved by hand. The
viewer facts come from the streamer's `/v1/status`: `viewers` and
`last_viewer_left_at` (unix seconds).
"""

from __future__ import annotations

from orchestrator.sessions.states import EndReason


def expiry(
    *,
    now: float,
    ready_at: float,
    viewers: int,
    last_viewer_left_at: float | None,
    idle_timeout_s: float,
    max_duration_s: float,
) -> EndReason | None:
    """The reason to end the session now, or `None` to let it run.

    Maximum duration counts from `ready_at` (time spent queued or starting is not the
    caller's to use). Idle time counts from the last viewer leaving or, if nobody ever
    connected, from `ready_at`: a session claimed and never opened is idle too.
    """
    if now - ready_at >= max_duration_s:
        return EndReason.MAX_DURATION
    if viewers > 0:
        return None
    idle_since = max(ready_at, last_viewer_left_at or ready_at)
    if now - idle_since >= idle_timeout_s:
        return EndReason.IDLE_TIMEOUT
    return None
