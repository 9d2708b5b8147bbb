"""The statement builders: every kind of statement we send is valid xAPI by ralph's
models (a validator others wrote), says who, what and when as documented in
docs/learning-records.md, and has an id that is the same each time the same fact is
built and different for every other fact."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from orchestrator.learning import statements as st

WORDS = st.Vocabulary("https://lms.example.org/ixstream/", "https://idp.example.org")
FACTS = st.SessionFacts("s-0123456789abcdef", "alice", "gas-leak-warehouse")
AT = 1_765_000_000.25
SCENARIO = "https://lms.example.org/ixstream/scenarios/gas-leak-warehouse"
ADL = "http://adlnet.gov/expapi/verbs/"

#: One of each after-action log entry that makes a statement (docs/scenarios.md).
ENTRIES: list[dict[str, Any]] = [
    {"seq": 0, "at": AT, "t": 0.0, "kind": "scenario_started", "scenario": "x", "title": "X"},
    {"seq": 3, "at": AT + 4, "t": 4.0, "kind": "trigger_fired", "trigger": "leak near",
     "cause": "proximity"},
    {"seq": 4, "at": AT + 5, "t": 5.0, "kind": "instructor", "action": "event",
     "event": "alarm", "by": "ivy"},
    {"seq": 5, "at": AT + 6, "t": 6.0, "kind": "paused", "by": "ivy"},
    {"seq": 6, "at": AT + 9, "t": 6.0, "kind": "resumed", "by": "ivy"},
    {"seq": 9, "at": AT + 20, "t": 17.5, "kind": "scenario_ended", "outcome": "success",
     "message": "Bob's valve", "by": "ivy"},
]  # fmt: skip


def every_statement() -> list[dict[str, Any]]:
    built = [st.launched(WORDS, FACTS, AT), st.terminated(WORDS, FACTS, AT + 30, AT)]
    built += [s for e in ENTRIES if (s := st.from_log_entry(WORDS, FACTS, e)) is not None]
    return built


def test_every_kind_of_statement_is_valid_xapi() -> None:
    built = every_statement()
    assert len(built) == 2 + len(ENTRIES)
    for statement in built:
        BaseXapiStatement.model_validate(statement)  # raises on any invalid statement


def test_the_trainee_is_an_account_never_an_email() -> None:
    for statement in every_statement():
        assert statement["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": "https://idp.example.org", "name": "alice"},
        }
        assert "mbox" not in str(statement)


def test_verbs_and_objects_follow_the_documented_vocabulary() -> None:
    by_verb = {s["verb"]["id"].removeprefix(ADL): s for s in every_statement()}
    assert set(by_verb) == {
        "launched", "terminated", "initialized", "experienced", "suspended", "resumed", "passed"
    }  # fmt: skip
    assert by_verb["launched"]["object"]["id"] == SCENARIO
    assert by_verb["launched"]["object"]["definition"]["type"].endswith("/simulation")
    experienced = [s for s in every_statement() if s["verb"]["id"].endswith("experienced")]
    assert [s["object"]["id"] for s in experienced] == [
        SCENARIO + "/triggers/leak%20near",
        SCENARIO + "/events/alarm",
    ]
    for statement in experienced:
        assert statement["context"]["contextActivities"]["parent"][0]["id"] == SCENARIO
    assert "instructor" not in experienced[0]["context"]  # a trigger: nobody did it
    assert experienced[1]["context"]["instructor"]["account"]["name"] == "ivy"


@pytest.mark.parametrize(
    ("outcome", "verb", "success"),
    [("success", "passed", True), ("failure", "failed", False), ("partial", "completed", None)],
)
def test_the_outcome_is_the_verb_and_the_result(
    outcome: str, verb: str, success: bool | None
) -> None:
    entry = {**ENTRIES[-1], "outcome": outcome}
    statement = st.from_log_entry(WORDS, FACTS, entry)
    assert statement is not None
    BaseXapiStatement.model_validate(statement)
    assert statement["verb"]["id"] == ADL + verb
    result = statement["result"]
    assert result["completion"] is True
    assert result.get("success") == success
    assert result["duration"] == "PT17.50S"  # scenario time, pauses excluded
    assert result["extensions"][WORDS.extension("outcome")] == outcome
    assert "Bob" not in str(statement)  # the instructor's free text stays here


def test_a_trigger_that_ends_the_scenario_names_no_instructor() -> None:
    entry = {**ENTRIES[-1], "by": "trigger:valve-closed"}
    statement = st.from_log_entry(WORDS, FACTS, entry)
    assert statement is not None
    assert "instructor" not in statement["context"]


def test_terminated_carries_the_time_since_launch_and_when() -> None:
    statement = st.terminated(WORDS, FACTS, AT + 65.5, AT)
    assert statement["result"] == {"duration": "PT65.50S"}
    assert statement["timestamp"] == "2025-12-06T05:47:45.750Z"


def test_ids_are_stable_per_fact_and_distinct_between_facts() -> None:
    first, again = every_statement(), every_statement()
    assert [s["id"] for s in first] == [s["id"] for s in again]
    assert len({s["id"] for s in first}) == len(first)
    other_session = st.SessionFacts("s-fedcba9876543210", "alice", FACTS.scenario)
    assert st.launched(WORDS, other_session, AT)["id"] != first[0]["id"]
    assert uuid.UUID(first[0]["id"]).version == 5


def test_the_registration_is_the_session_as_a_uuid_and_the_session_id_travels_along() -> None:
    for statement in every_statement():
        context = statement["context"]
        assert context["registration"] == str(uuid.uuid5(st.NAMESPACE, FACTS.session_id))
        assert context["extensions"] == {WORDS.extension("session-id"): FACTS.session_id}


@pytest.mark.parametrize(
    "entry",
    [
        {"seq": 1, "at": AT, "t": 0.2, "kind": "pose", "p": [0, 1.6, 0], "q": [0, 0, 0, 1]},
        {"seq": 2, "at": AT, "t": 0.3, "kind": "effect", "trigger": "a", "do": "caption"},
        {"seq": 2, "at": AT, "t": 0.3, "kind": "act", "object": None, "action": "grab"},
        {"seq": 7, "at": AT, "t": 6.0, "kind": "instructor", "action": "pause", "by": "ivy"},
        {"seq": 8, "at": AT, "kind": "trigger_fired"},  # no trigger named
        {"seq": 8, "at": AT, "kind": "scenario_ended", "outcome": "draw"},
        {"seq": "8", "at": AT, "kind": "paused"},
        {"at": AT, "kind": "paused"},
        {"seq": 8, "kind": "paused"},
    ],
)
def test_entries_that_are_not_learning_events_or_are_malformed_make_none(
    entry: dict[str, Any],
) -> None:
    assert st.from_log_entry(WORDS, FACTS, entry) is None
