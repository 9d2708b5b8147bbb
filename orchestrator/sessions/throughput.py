"""The frame rate a session's streamer actually sends, measured by the orchestrator.

The streamer's `/v1/status` reports a running count, `frames_sent` (frames handed to a
viewer's RTP sender), but no rate. The reconcile loop already polls that status for
idle detection, so the rate comes from two successive polls at no extra cost: the
operator console then shows the frames a session really delivers, not the frame rate it
asked for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FrameSample:
    """One status poll's `frames_sent`, and when (orchestrator clock, seconds) it was read."""

    frames_sent: int
    at: float


def frame_rate(previous: FrameSample | None, current: FrameSample) -> float | None:
    """Frames per second between two polls, or None when there is nothing to measure: no
    earlier poll, no time between them, or a count that went backwards (the streamer
    restarted its counter, so the difference means nothing)."""
    if previous is None:
        return None
    elapsed = current.at - previous.at
    sent = current.frames_sent - previous.frames_sent
    if elapsed <= 0 or sent < 0:
        return None
    return sent / elapsed
