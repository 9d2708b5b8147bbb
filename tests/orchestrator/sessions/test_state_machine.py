"""The session state machine: every allowed and every forbidden transition, and what a
transition records (DESIGN.md §3)."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.errors import IllegalTransitionError
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.states import (
    ALLOWED_TRANSITIONS,
    CAPACITY_STATES,
    TERMINAL_STATES,
    SessionState,
    can_transition,
)

S = SessionState
HAPPY_PATH = [S.PENDING, S.STARTING, S.READY, S.ACTIVE, S.ENDING, S.ENDED]
EXPECTED_ALLOWED = {
    (S.PENDING, S.STARTING), (S.PENDING, S.ENDING), (S.PENDING, S.FAILED),
    (S.STARTING, S.READY), (S.STARTING, S.ENDING), (S.STARTING, S.FAILED),
    (S.READY, S.ACTIVE), (S.READY, S.ENDING), (S.READY, S.FAILED),
    (S.ACTIVE, S.ENDING), (S.ACTIVE, S.FAILED),
    (S.ENDING, S.ENDED), (S.ENDING, S.FAILED),
}  # fmt: skip
ALL_PAIRS = list(itertools.product(SessionState, SessionState))


@pytest.mark.parametrize(("source", "target"), sorted(EXPECTED_ALLOWED))
def test_an_allowed_transition_moves_the_session_and_records_it(
    source: SessionState, target: SessionState
) -> None:
    lifecycle = Lifecycle(state=source)
    step = lifecycle.advance(target, at=12.5, reason="why", detail="more")
    assert lifecycle.state is target
    assert (step.source, step.target, step.at) == (source, target, 12.5)
    assert lifecycle.history[-1] == step
    assert (lifecycle.reason, lifecycle.detail) == ("why", "more")


@pytest.mark.parametrize(("source", "target"), [p for p in ALL_PAIRS if p not in EXPECTED_ALLOWED])
def test_a_forbidden_transition_raises_and_changes_nothing(
    source: SessionState, target: SessionState
) -> None:
    lifecycle = Lifecycle(state=source)
    with pytest.raises(IllegalTransitionError, match=f"from {source.value} to {target.value}"):
        lifecycle.advance(target, at=1.0)
    assert lifecycle.state is source
    assert lifecycle.history == []


def test_the_table_is_exactly_the_documented_one() -> None:
    table = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert table == EXPECTED_ALLOWED
    assert all(can_transition(a, b) == ((a, b) in EXPECTED_ALLOWED) for a, b in ALL_PAIRS)


def test_failed_is_reachable_from_every_state_that_is_not_terminal() -> None:
    for state in set(SessionState) - TERMINAL_STATES:
        assert can_transition(state, S.FAILED)


def test_terminal_states_lead_nowhere() -> None:
    assert {S.ENDED, S.FAILED} == TERMINAL_STATES
    for state in TERMINAL_STATES:
        assert ALLOWED_TRANSITIONS[state] == frozenset()


def test_the_happy_path_is_timestamped_step_by_step() -> None:
    lifecycle = Lifecycle.begin(at=100.0)
    for offset, state in enumerate(HAPPY_PATH[1:], start=1):
        lifecycle.advance(state, at=100.0 + offset)
    assert [t.target for t in lifecycle.history] == HAPPY_PATH
    assert [t.at for t in lifecycle.history] == [100.0 + i for i in range(len(HAPPY_PATH))]
    assert lifecycle.entered_at(S.READY) == 102.0
    assert lifecycle.entered_at(S.FAILED) is None


def test_pending_sessions_do_not_hold_capacity_but_ending_ones_do() -> None:
    assert S.PENDING not in CAPACITY_STATES
    assert S.ENDING in CAPACITY_STATES
    assert CAPACITY_STATES.isdisjoint(TERMINAL_STATES)
