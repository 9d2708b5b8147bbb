"""The audit log: one JSON line per action, with actor, session and time, in the file
and on the log stream."""

from __future__ import annotations

import json
from pathlib import Path

import structlog

from orchestrator.audit import AuditAction, AuditLog
from orchestrator.clock import ManualClock


def test_every_record_is_a_json_line_with_actor_session_and_time(tmp_path: Path) -> None:
    clock = ManualClock(start=1000.0)
    audit = AuditLog(tmp_path / "a" / "audit.jsonl", clock)
    audit.record(AuditAction.CREATE, actor="alice", session_id="s-1", scenario="sample")
    clock.advance(5)
    audit.record(AuditAction.END, actor="olga", session_id="s-1", reason="deleted")
    audit.close()
    lines = [json.loads(x) for x in (tmp_path / "a" / "audit.jsonl").read_text().splitlines()]
    assert lines == [
        {"time": 1000.0, "action": "session.create", "actor": "alice", "session": "s-1",
         "scenario": "sample"},
        {"time": 1005.0, "action": "session.end", "actor": "olga", "session": "s-1",
         "reason": "deleted"},
    ]  # fmt: skip


def test_records_also_reach_the_structured_log(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl", ManualClock())
    with structlog.testing.capture_logs() as logs:
        audit.record(
            AuditAction.FAIL,
            actor="system:orchestrator",
            session_id="s-2",
            reason="streamer_exited",
        )
    audit.close()
    assert logs[0]["event"] == "audit"
    assert logs[0]["action"] == "session.fail"
    assert logs[0]["reason"] == "streamer_exited"


def test_the_log_appends_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for actor in ("first", "second"):
        audit = AuditLog(path, ManualClock())
        audit.record(AuditAction.JOIN, actor=actor, session_id="s")
        audit.close()
    assert [json.loads(x)["actor"] for x in path.read_text().splitlines()] == ["first", "second"]
