"""What a look at a session's streamer means for the session: one row per case of
`read_observation`, a pure decision, checked against the verdict it must return (the
session itself is never changed by it)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from orchestrator.backends.base import Observation, StreamerProfile, StreamerStatus
from orchestrator.identity import Role
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.models import Session, SessionSpec
from orchestrator.sessions.observation import (
    Fail,
    MissedPoll,
    ObservationRules,
    Report,
    Verdict,
    read_observation,
)
from orchestrator.sessions.states import EndReason, FailureReason, SessionState
from orchestrator.sessions.throughput import FrameSample

S = SessionState
CREATED = 1_000.0
READY_AT = 1_010.0
NOW = 1_100.0
RULES = ObservationRules(
    unresponsive_after=3, scenario_end_grace_s=5.0, idle_timeout_s=300.0, max_duration_s=3600.0
)
PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)
SPEC = SessionSpec("test-pattern", "browser", 320, 240, 15, None)


def session(state: SessionState = S.READY, **changes: Any) -> Session:
    lifecycle = Lifecycle.begin(CREATED)
    lifecycle.state = state
    made = Session(
        id="s-1",
        owner="alice",
        owner_role=Role.TRAINEE,
        spec=SPEC,
        profile=PROFILE,
        created_at=CREATED,
        lifecycle=lifecycle,
        ready_at=READY_AT,
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def status(**changes: Any) -> StreamerStatus:
    quiet = StreamerStatus(
        ready=True,
        viewers=0,
        trainee_connected=False,
        frames_sent=0,
        first_frame_sent_at=None,
        last_viewer_left_at=None,
        started_at=CREATED,
    )
    return replace(quiet, **changes)


def answered(**changes: Any) -> Observation:
    return Observation(alive=True, status=status(**changes))


def report(**changes: Any) -> Report:
    """The report of a quiet, healthy poll at NOW, with `changes`."""
    quiet = Report(
        viewers=0,
        frames_sent=0,
        last_viewer_left_at=None,
        frame_sample=FrameSample(0, NOW),
        measured_fps=None,
        first_frame_at=None,
        activate=False,
        scenario_over_at=None,
        end=None,
    )
    return replace(quiet, **changes)


@dataclass(frozen=True)
class Case:
    session: Session
    observation: Observation
    verdict: Verdict
    now: float = NOW


CASES = {
    "a streamer that died fails its session with streamer_exited": Case(
        session(),
        Observation(alive=False, detail="exit code 1"),
        Fail(FailureReason.STREAMER_EXITED, "exit code 1"),
    ),
    "a pod that lost its node fails its session with node_lost": Case(
        session(S.ACTIVE),
        Observation(alive=False, detail="node n1 lost", failure=FailureReason.NODE_LOST),
        Fail(FailureReason.NODE_LOST, "node n1 lost"),
    ),
    "a living streamer that does not answer counts one more failed poll": Case(
        session(failed_polls=1),
        Observation(alive=True, detail="timed out"),
        MissedPoll(2),
    ),
    "the poll that reaches the limit fails the session as unresponsive": Case(
        session(failed_polls=2),
        Observation(alive=True, detail="timed out"),
        Fail(
            FailureReason.STREAMER_UNRESPONSIVE,
            "3 status polls failed: timed out",
            failed_polls=3,
        ),
    ),
    "a quiet answer records its measurements and changes nothing else": Case(
        session(failed_polls=2), answered(), report()
    ),
    "two polls measure the frame rate from the frames sent between them": Case(
        session(S.ACTIVE, frame_sample=FrameSample(100, NOW - 2.0)),
        answered(frames_sent=130, viewers=1),
        report(
            viewers=1,
            frames_sent=130,
            frame_sample=FrameSample(130, NOW),
            measured_fps=15.0,
        ),
    ),
    "the first frame reported is recorded once": Case(
        session(), answered(first_frame_sent_at=1_011.5), report(first_frame_at=1_011.5)
    ),
    "a first frame already recorded is not recorded again": Case(
        session(first_frame_at=1_011.5), answered(first_frame_sent_at=1_011.5), report()
    ),
    "a viewer connecting makes a ready session active": Case(
        session(), answered(viewers=1), report(viewers=1, activate=True)
    ),
    "the trainee connecting makes a ready session active": Case(
        session(), answered(trainee_connected=True), report(activate=True)
    ),
    "an active session is not made active again": Case(
        session(S.ACTIVE), answered(viewers=1), report(viewers=1)
    ),
    "a scenario seen over for the first time starts the grace period": Case(
        session(S.ACTIVE),
        answered(scenario_outcome="passed", viewers=1),
        report(viewers=1, scenario_over_at=NOW),
    ),
    "a scenario over for less than the grace period lets the trainee read it": Case(
        session(S.ACTIVE, scenario_over_at=NOW - 4.0),
        answered(scenario_outcome="passed", viewers=1),
        report(viewers=1, scenario_over_at=NOW - 4.0),
    ),
    "a scenario over for the whole grace period ends the session": Case(
        session(S.ACTIVE, scenario_over_at=NOW - 5.0),
        answered(scenario_outcome="passed", viewers=1),
        report(viewers=1, scenario_over_at=NOW - 5.0, end=EndReason.SCENARIO_ENDED),
    ),
    "a session nobody opened ends idle after the idle timeout": Case(
        session(),
        answered(),
        report(frame_sample=FrameSample(0, READY_AT + 300.0), end=EndReason.IDLE_TIMEOUT),
        now=READY_AT + 300.0,
    ),
    "a session past its maximum duration ends though it is watched": Case(
        session(S.ACTIVE),
        answered(viewers=1),
        report(
            viewers=1,
            frame_sample=FrameSample(0, READY_AT + 3600.0),
            end=EndReason.MAX_DURATION,
        ),
        now=READY_AT + 3600.0,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_observation_means(case: Case) -> None:
    before = (case.session.failed_polls, case.session.state, case.session.first_frame_at)
    assert read_observation(case.session, case.observation, case.now, RULES) == case.verdict
    assert (case.session.failed_polls, case.session.state, case.session.first_frame_at) == before
