"""Which streamers the reaper may stop: one row per case of `may_reap`, a pure rule.
Several replicas sharing a cluster must never reap each other's live sessions nor the
cluster-wide warm pods; a single local orchestrator still reaps what it does not own."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from orchestrator.sessions.orphans import may_reap
from orchestrator.sessions.states import SessionState

S = SessionState


@dataclass(frozen=True)
class Case:
    pool_owns: bool
    bound: bool
    known_state: SessionState | None
    recorded_state: str | None
    reaped: bool


CASES = {
    "a streamer the warm pool owns is kept": Case(True, False, None, None, False),
    "a pool's streamer is kept whatever is recorded on it": Case(True, True, None, "ended", False),
    "an unbound streamer no pool owns is reaped": Case(False, False, None, None, True),
    "a streamer serving a live session of this replica is kept": Case(
        False, True, S.ACTIVE, None, False
    ),
    "a streamer still ending its session here is kept": Case(False, True, S.ENDING, None, False),
    "a streamer whose session here ended is reaped": Case(False, True, S.ENDED, None, True),
    "a streamer whose session here failed is reaped": Case(False, True, S.FAILED, None, True),
    "another replica's session with nothing recorded yet is left alone": Case(
        False, True, None, None, False
    ),
    "another replica's live session is left alone": Case(False, True, None, "active", False),
    "another replica's session recorded ending is reaped": Case(False, True, None, "ending", True),
    "another replica's session recorded ended is reaped": Case(False, True, None, "ended", True),
    "another replica's session recorded failed is reaped": Case(False, True, None, "failed", True),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_reaper_decides(case: Case) -> None:
    decided = may_reap(
        pool_owns=case.pool_owns,
        bound=case.bound,
        known_state=case.known_state,
        recorded_state=case.recorded_state,
    )
    assert decided is case.reaped
