"""Restart recovery's matching, a pure step: each journalled session meets the streamer
bound to it, and every streamer no session claims is left over for the pool or the
reaper (nothing is matched twice, nothing is dropped)."""

from __future__ import annotations

from orchestrator.backends.base import Streamer, StreamerPhase, StreamerProfile
from orchestrator.identity import Principal, Role
from orchestrator.sessions.models import Session, SessionSpec
from orchestrator.sessions.recovery import pair, readable_sessions

PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)
SPEC = SessionSpec("test-pattern", "browser", 320, 240, 15, None)
ALICE = Principal("alice", Role.TRAINEE)


def streamer(name: str, session_id: str | None) -> Streamer:
    return Streamer(name, PROFILE, "key", StreamerPhase.READY, session_id, None, 0.0)


def test_each_session_meets_its_streamer_and_the_rest_are_left_over() -> None:
    running, queued = Session.new(ALICE, SPEC, PROFILE, 1.0), Session.new(ALICE, SPEC, PROFILE, 2.0)
    mine = streamer("p-1", running.id)
    warm = streamer("p-2", None)
    elsewhere = streamer("p-3", "s-another-replicas")
    paired, left = pair([running, queued], [warm, mine, elsewhere])
    assert paired == [(running, mine), (queued, None)]
    assert left == [warm, elsewhere]


def test_journal_records_come_back_in_creation_order_and_unreadable_ones_are_skipped() -> None:
    late, early = Session.new(ALICE, SPEC, PROFILE, 20.0), Session.new(ALICE, SPEC, PROFILE, 10.0)
    records = [late.to_json(), {"id": "s-broken", "created_at": 15.0}, early.to_json()]
    assert [s.id for s in readable_sessions(records)] == [early.id, late.id]
