"""Session records survive the journal: what a restart reads back equals what was
written, and the journal keeps only live sessions."""

from __future__ import annotations

from pathlib import Path

from orchestrator.backends.base import StreamerProfile
from orchestrator.identity import Role
from orchestrator.sessions.journal import SessionJournal
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.models import Session, SessionSpec
from orchestrator.sessions.states import SessionState

SPEC = SessionSpec("test-pattern", "headset", 640, 480, 30, "vp8")
PROFILE = StreamerProfile("test-pattern", None, 640, 480, 30, "vp8", True, 8000)


def a_session() -> Session:
    session = Session("s-1", "alice", Role.TRAINEE, SPEC, PROFILE, 10.0, Lifecycle.begin(10.0))
    session.lifecycle.advance(SessionState.STARTING, 11.0)
    session.lifecycle.advance(SessionState.READY, 12.0)
    session.start_kind = "warm"
    session.ready_at = 12.0
    return session


def test_a_session_reads_back_as_it_was_written(tmp_path: Path) -> None:
    journal = SessionJournal(tmp_path)
    original = a_session()
    journal.save(original.to_json())
    (restored,) = [Session.from_json(r) for r in journal.load_all()]
    assert restored.to_json() == original.to_json()
    assert restored.state is SessionState.READY
    assert restored.lifecycle.history == original.lifecycle.history


def test_removed_sessions_are_gone_and_unreadable_files_are_set_aside(tmp_path: Path) -> None:
    journal = SessionJournal(tmp_path)
    journal.save(a_session().to_json())
    journal.remove("s-1")
    journal.remove("s-1")  # idempotent
    (tmp_path / "s-2.json").write_text("{not json")
    assert journal.load_all() == []
    assert (tmp_path / "s-2.corrupt").exists()
