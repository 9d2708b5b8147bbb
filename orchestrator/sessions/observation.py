"""What one look at a running session's streamer means for the session.

A pure decision (STYLE.md rule 3): `read_observation` takes the session as it stands,
the backend's `Observation` and the clock's `now`, and returns a verdict; the service
applies it (`SessionService._apply`). Nothing here changes the session, so every case is
a row in a table (`tests/orchestrator/sessions/test_observation_verdicts.py`).

The verdicts, one per kind of news:

- `Fail`: the streamer is gone (its reason, where the backend can tell), or it has not
  answered `unresponsive_after` polls in a row;
- `MissedPoll`: it lives but did not answer this time; not yet given up on;
- `Report`: it answered: the measurements to record, whether the session becomes
  `active`, since when its scenario is over, and why it must end now, if it must.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.backends.base import Observation, StreamerStatus
from orchestrator.sessions.lifetime import expiry
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import EndReason, FailureReason, SessionState
from orchestrator.sessions.throughput import FrameSample, frame_rate
from orchestrator.settings import OrchestratorSettings


@dataclass(frozen=True, slots=True)
class ObservationRules:
    """The settings the decision reads (`OrchestratorSettings` fields of the same names)."""

    #: Failed status polls in a row after which a living streamer counts as hung.
    unresponsive_after: int
    #: Seconds a trainee may read a finished scenario's outcome before the session ends.
    scenario_end_grace_s: float
    idle_timeout_s: float
    max_duration_s: float

    @classmethod
    def of(cls, settings: OrchestratorSettings) -> ObservationRules:
        return cls(
            unresponsive_after=settings.unresponsive_after,
            scenario_end_grace_s=settings.scenario_end_grace_s,
            idle_timeout_s=settings.idle_timeout_s,
            max_duration_s=settings.max_duration_s,
        )


@dataclass(frozen=True, slots=True)
class Fail:
    """The session fails with `reason` (a `FailureReason` value)."""

    reason: str
    detail: str | None
    #: Failed polls in a row, where unanswered polls were the cause (else unchanged).
    failed_polls: int | None = None


@dataclass(frozen=True, slots=True)
class MissedPoll:
    """The streamer lives but did not answer; `failed_polls` in a row so far."""

    failed_polls: int


@dataclass(frozen=True, slots=True)
class Report:
    """The streamer answered: what to record on the session, and what follows."""

    viewers: int
    frames_sent: int
    last_viewer_left_at: float | None
    frame_sample: FrameSample
    measured_fps: float | None
    #: The streamer's first frame, the first time a poll reports one (else None).
    first_frame_at: float | None
    #: A viewer or the trainee connected to a `ready` session: it becomes `active`.
    activate: bool
    #: When the scenario was first seen over (None: nothing new, leave it as it is).
    scenario_over_at: float | None
    #: Why the session must end now (scenario over past its grace, idle, too long).
    end: EndReason | None


Verdict = Fail | MissedPoll | Report


def read_observation(
    session: Session, observation: Observation, now: float, rules: ObservationRules
) -> Verdict:
    """What `observation` of `session`'s streamer, made at `now`, means for it."""
    if not observation.alive:
        reason = observation.failure or FailureReason.STREAMER_EXITED
        return Fail(reason, observation.detail)
    if observation.status is None:
        failed = session.failed_polls + 1
        if failed < rules.unresponsive_after:
            return MissedPoll(failed)
        detail = f"{failed} status polls failed: {observation.detail}"
        return Fail(FailureReason.STREAMER_UNRESPONSIVE, detail, failed_polls=failed)
    return _report(session, observation.status, now, rules)


def _report(
    session: Session, status: StreamerStatus, now: float, rules: ObservationRules
) -> Report:
    sample = FrameSample(status.frames_sent, now)
    over_at = (session.scenario_over_at or now) if status.scenario_outcome is not None else None
    end = None
    if over_at is not None and now - over_at >= rules.scenario_end_grace_s:
        end = EndReason.SCENARIO_ENDED  # an instructor's `end` ends the session at once
    return Report(
        viewers=status.viewers,
        frames_sent=status.frames_sent,
        last_viewer_left_at=status.last_viewer_left_at,
        frame_sample=sample,
        measured_fps=frame_rate(session.frame_sample, sample),
        first_frame_at=status.first_frame_sent_at if session.first_frame_at is None else None,
        activate=session.state is SessionState.READY
        and (status.viewers > 0 or status.trainee_connected),
        scenario_over_at=over_at,
        end=end
        or expiry(
            now=now,
            ready_at=session.ready_at or session.created_at,
            viewers=status.viewers,
            last_viewer_left_at=status.last_viewer_left_at,
            idle_timeout_s=rules.idle_timeout_s,
            max_duration_s=rules.max_duration_s,
        ),
    )
