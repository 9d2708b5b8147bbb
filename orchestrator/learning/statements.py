"""Pure builders of xAPI 1.0.3 statements (xAPI 1.0.3 Part Two §2.4) from what the
orchestrator knows about a session: no I/O, no clock, tested against a validator.

Who: a session's subject (the API token's `sub`) becomes an `account` agent with the
configured home page (Part Two §2.4.2.4): never an email address, which the
orchestrator does not have and the LRS does not need. Instructors appear the same way
in `context.instructor`.

Which statement: its `id` is a UUIDv5 of the session id and the fact's identity
(`launched`, `terminated`, or the after-action log's `seq`), so building it again,
after a restart or a second pull of the same log page, gives the same id, which the
outbox and the LRS (Part Three §2.1.1) both recognise.

`context.registration` must be a UUID (Part Two §2.4.6); a session id is not one, so
it is a UUIDv5 of the session id, and the session id itself travels as a context
extension for people reading the LRS next to our after-action logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from orchestrator.learning import vocabulary as v

Statement = dict[str, Any]
#: Our namespace for statement ids and registrations (RFC 9562 §5.5).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ixstream:learning-records")
PLATFORM = "IX Stream"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The configured IRIs: where activity ids live, whose accounts actors are."""

    activity_base: str
    home_page: str

    def agent(self, subject: str) -> dict[str, Any]:
        return {"objectType": "Agent", "account": {"homePage": self.home_page, "name": subject}}

    def activity(self, path: str, kind: str, name: str) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": self.activity_base + path,
            "definition": {"type": kind, "name": {"en-US": name}},
        }

    def scenario(self, scenario: str) -> dict[str, Any]:
        return self.activity(f"scenarios/{_segment(scenario)}", v.SIMULATION, scenario)

    def extension(self, name: str) -> str:
        return self.activity_base + f"extensions/{name}"


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What every statement about one session shares."""

    session_id: str
    trainee: str
    scenario: str


#: Builds the statement of one after-action log entry (`fact` is its identity).
EntryBuilder = Callable[[Vocabulary, SessionFacts, Mapping[str, Any], str, float], Statement | None]


def statement_id(session_id: str, fact: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{session_id}#{fact}"))


def registration(session_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, session_id))


def iso_timestamp(at: float) -> str:
    """Unix seconds → an ISO 8601 UTC timestamp (Part Two §4.5), millisecond precision."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_duration(seconds: float) -> str:
    """Seconds → an ISO 8601 duration (Part Two §4.6), to the hundredth as the spec's
    precision rule allows."""
    return f"PT{max(0.0, round(seconds, 2)):.2f}S"


def build(
    words: Vocabulary,
    facts: SessionFacts,
    *,
    fact: str,
    verb: v.Verb,
    obj: dict[str, Any],
    at: float,
    result: dict[str, Any] | None = None,
    instructor: str | None = None,
    parent: bool = False,
) -> Statement:
    """One statement by the session's trainee."""
    context: dict[str, Any] = {
        "registration": registration(facts.session_id),
        "platform": PLATFORM,
        "extensions": {words.extension("session-id"): facts.session_id},
    }
    if instructor is not None:
        context["instructor"] = words.agent(instructor)
    if parent:
        context["contextActivities"] = {"parent": [words.scenario(facts.scenario)]}
    statement: Statement = {
        "id": statement_id(facts.session_id, fact),
        "actor": words.agent(facts.trainee),
        "verb": verb.to_json(),
        "object": obj,
        "context": context,
        "timestamp": iso_timestamp(at),
    }
    if result is not None:
        statement["result"] = result
    return statement


def launched(words: Vocabulary, facts: SessionFacts, at: float) -> Statement:
    """The trainee connected to the session for the first time."""
    return build(
        words, facts, fact="launched", verb=v.LAUNCHED, obj=words.scenario(facts.scenario), at=at
    )


def terminated(words: Vocabulary, facts: SessionFacts, at: float, launched_at: float) -> Statement:
    """The session ended, `launched_at` → `at` after the trainee first connected."""
    result = {"duration": iso_duration(at - launched_at)}
    return build(
        words,
        facts,
        fact="terminated",
        verb=v.TERMINATED,
        obj=words.scenario(facts.scenario),
        at=at,
        result=result,
    )


def from_log_entry(
    words: Vocabulary, facts: SessionFacts, entry: Mapping[str, Any]
) -> Statement | None:
    """The statement an after-action log entry (docs/scenarios.md) makes, or None for
    entries that are not learning events (poses, effects, acts, the instructor's own
    pause/resume/end, whose `paused`/`resumed`/`scenario_ended` entries follow)."""
    seq, at, kind = entry.get("seq"), entry.get("at"), entry.get("kind")
    if not isinstance(seq, int) or not isinstance(at, int | float) or not isinstance(kind, str):
        return None
    builder = _BY_KIND.get(kind)
    return None if builder is None else builder(words, facts, entry, f"log:{seq}", float(at))


def _started(
    words: Vocabulary, facts: SessionFacts, entry: Mapping[str, Any], fact: str, at: float
) -> Statement:
    return build(
        words, facts, fact=fact, verb=v.INITIALIZED, obj=words.scenario(facts.scenario), at=at
    )


def _trigger(
    words: Vocabulary, facts: SessionFacts, entry: Mapping[str, Any], fact: str, at: float
) -> Statement | None:
    trigger = entry.get("trigger")
    if not isinstance(trigger, str):
        return None
    path = f"scenarios/{_segment(facts.scenario)}/triggers/{_segment(trigger)}"
    obj = words.activity(path, v.INTERACTION, trigger)
    return build(words, facts, fact=fact, verb=v.EXPERIENCED, obj=obj, at=at, parent=True)


def _instructor(
    words: Vocabulary, facts: SessionFacts, entry: Mapping[str, Any], fact: str, at: float
) -> Statement | None:
    event, by = entry.get("event"), entry.get("by")
    if entry.get("action") != "event" or not isinstance(event, str):
        return None
    path = f"scenarios/{_segment(facts.scenario)}/events/{_segment(event)}"
    obj = words.activity(path, v.INTERACTION, event)
    return build(
        words, facts, fact=fact, verb=v.EXPERIENCED, obj=obj, at=at,
        instructor=by if isinstance(by, str) else None, parent=True,
    )  # fmt: skip


def _pause(verb: v.Verb) -> EntryBuilder:
    def make(
        words: Vocabulary, facts: SessionFacts, entry: Mapping[str, Any], fact: str, at: float
    ) -> Statement:
        by = entry.get("by")
        return build(
            words, facts, fact=fact, verb=verb, obj=words.scenario(facts.scenario), at=at,
            instructor=by if isinstance(by, str) else None,
        )  # fmt: skip

    return make


def _ended(
    words: Vocabulary, facts: SessionFacts, entry: Mapping[str, Any], fact: str, at: float
) -> Statement | None:
    """passed / failed / completed, with the outcome and the scenario time it took.
    The instructor's free-text `message` is not sent (docs/learning-records.md, privacy)."""
    outcome, t, by = entry.get("outcome"), entry.get("t"), entry.get("by")
    if outcome not in v.OUTCOME_VERBS:
        return None
    verb, success = v.OUTCOME_VERBS[outcome]
    result: dict[str, Any] = {
        "completion": True,
        "extensions": {words.extension("outcome"): outcome},
    }
    if success is not None:
        result["success"] = success
    if isinstance(t, int | float):
        result["duration"] = iso_duration(float(t))
    instructor = by if isinstance(by, str) and not by.startswith("trigger:") else None
    return build(
        words, facts, fact=fact, verb=verb, obj=words.scenario(facts.scenario), at=at,
        result=result, instructor=instructor,
    )  # fmt: skip


def _segment(name: str) -> str:
    """A name as one IRI path segment (RFC 3986 §3.3)."""
    return quote(name, safe="")


_BY_KIND: dict[str, EntryBuilder] = {
    "scenario_started": _started,
    "trigger_fired": _trigger,
    "instructor": _instructor,
    "paused": _pause(v.SUSPENDED),
    "resumed": _pause(v.RESUMED),
    "scenario_ended": _ended,
}
