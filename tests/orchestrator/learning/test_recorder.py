"""From the service's facts to queued statements: `launched` when the trainee first
connects, `terminated` with the time since then when a launched session ends or fails
(and nothing for one nobody joined), log entries only past the store's cursor and once
however often a page is seen, and a disk that fails is counted, never raised into the
session service. Off, the hooks do nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from orchestrator.backends.base import StreamerProfile
from orchestrator.identity import Role
from orchestrator.learning.outbox import Outbox
from orchestrator.learning.recorder import LearningRecorder
from orchestrator.learning.statements import Vocabulary
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.models import Session, SessionSpec
from orchestrator.sessions.states import SessionState

S = SessionState
SPEC = SessionSpec("gas-leak-warehouse", "headset", 640, 480, 30, "h264")
PROFILE = StreamerProfile("scene", "warehouse.glb", 640, 480, 30, "h264", True, 8000)
WORDS = Vocabulary("https://lms.example.org/ixstream/", "https://idp.example.org")
T0 = 1_765_000_000.0


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def setup(tmp_path: Path) -> tuple[LearningRecorder, Outbox, OrchestratorMetrics, Wakes]:
    outbox = Outbox(tmp_path / "outbox")
    outbox.open(T0, 30)
    metrics = OrchestratorMetrics(CollectorRegistry())
    wakes = Wakes()
    return LearningRecorder(WORDS, outbox, metrics, wakes), outbox, metrics, wakes


def a_session() -> Session:
    return Session("s-1", "alice", Role.TRAINEE, SPEC, PROFILE, T0, Lifecycle.begin(T0))


def move(recorder: LearningRecorder, session: Session, target: SessionState, at: float) -> None:
    session.lifecycle.advance(target, at)
    recorder.session_moved(session)


def queued(outbox: Outbox) -> list[dict[str, Any]]:
    found = []
    while (item := outbox.head()) is not None:
        found.append(item.statement)
        outbox.delivered(item)
    return found


def verbs(statements: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["display"]["en-US"] for s in statements]


def test_a_joined_session_is_launched_then_terminated_with_its_duration(tmp_path: Path) -> None:
    recorder, outbox, _, wakes = setup(tmp_path)
    session = a_session()
    for target, at in [
        (S.STARTING, 1),
        (S.READY, 2),
        (S.ACTIVE, 10),
        (S.ENDING, 70),
        (S.ENDED, 72),
    ]:
        move(recorder, session, target, T0 + at)
    made = queued(outbox)
    assert verbs(made) == ["launched", "terminated"]
    assert made[1]["result"]["duration"] == "PT62.00S"  # from the launch to the end
    assert wakes.count == 2


def test_a_session_nobody_joined_leaves_no_record(tmp_path: Path) -> None:
    recorder, outbox, _, _ = setup(tmp_path)
    session = a_session()
    for target, at in [(S.STARTING, 1), (S.READY, 2), (S.FAILED, 40)]:
        move(recorder, session, target, T0 + at)
    assert queued(outbox) == []


def test_log_entries_past_the_cursor_become_statements_once(tmp_path: Path) -> None:
    recorder, outbox, metrics, _ = setup(tmp_path)
    page = [
        {"seq": 0, "at": T0, "t": 0, "kind": "scenario_started"},
        {"seq": 1, "at": T0 + 0.2, "t": 0.2, "kind": "pose", "p": [0, 0, 0], "q": [0, 0, 0, 1]},
        {"seq": 2, "at": T0 + 3, "t": 3, "kind": "trigger_fired", "trigger": "smell"},
    ]
    session = a_session()
    recorder.timeline(session, page, after=0)  # entry 0 stored already
    recorder.timeline(session, page, after=-1)  # the page again, from the start
    assert verbs(queued(outbox)) == ["experienced", "initialized"]
    sample = metrics.registry.get_sample_value(
        "ixstream_orchestrator_lrs_statements_total", {"outcome": "queued"}
    )
    assert sample == 2


def test_a_disk_that_fails_is_counted_and_never_raised(tmp_path: Path) -> None:
    recorder, outbox, metrics, _ = setup(tmp_path)
    shutil.rmtree(outbox.pending_dir)
    outbox.pending_dir.write_text("not a folder")  # every write into it fails
    session = a_session()
    move(recorder, session, S.STARTING, T0 + 1)
    move(recorder, session, S.READY, T0 + 2)
    move(recorder, session, S.ACTIVE, T0 + 3)  # must not raise
    lost = metrics.registry.get_sample_value(
        "ixstream_orchestrator_lrs_statements_total", {"outcome": "lost"}
    )
    assert lost == 1


def test_off_the_hooks_do_nothing(tmp_path: Path) -> None:
    recorder = LearningRecorder.off()
    session = a_session()
    move(recorder, session, S.STARTING, T0 + 1)
    move(recorder, session, S.READY, T0 + 2)
    move(recorder, session, S.ACTIVE, T0 + 3)
    recorder.timeline(session, [{"seq": 0, "at": T0, "kind": "scenario_started"}], after=-1)
    assert list(tmp_path.iterdir()) == []
