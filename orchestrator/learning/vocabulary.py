"""The verbs and activity types our statements use, and what each means here.

Verbs come from ADL's vocabulary (`http://adlnet.gov/expapi/verbs/`), which the cmi5
profile also uses for `launched`, `initialized`, `passed`, `failed`, `completed` and
`terminated`; activity types from ADL's activity types. docs/learning-records.md has
the same table for the LRS's readers.
"""

from __future__ import annotations

from dataclasses import dataclass

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"
#: The xAPI version we speak (xAPI 1.0.3 Part Three §6.2: the header on every request).
XAPI_VERSION = "1.0.3"


@dataclass(frozen=True, slots=True)
class Verb:
    id: str
    display: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "display": {"en-US": self.display}}


def _adl(name: str) -> Verb:
    return Verb(ADL_VERBS + name, name)


#: The trainee's first connection to the session's stream (cmi5 "launched").
LAUNCHED = _adl("launched")
#: The scenario's clock started (cmi5 "initialized").
INITIALIZED = _adl("initialized")
#: A trigger fired, or an instructor injected an event, and the trainee was in it.
EXPERIENCED = _adl("experienced")
#: The scenario was paused by an instructor.
SUSPENDED = _adl("suspended")
RESUMED = _adl("resumed")
#: The scenario ended with outcome `success` / `failure` / `partial`.
PASSED = _adl("passed")
FAILED = _adl("failed")
COMPLETED = _adl("completed")
#: The session ended (the trainee can no longer be in it), with its duration.
TERMINATED = _adl("terminated")

SIMULATION = ADL_ACTIVITIES + "simulation"
INTERACTION = ADL_ACTIVITIES + "interaction"

#: A scenario's outcome (C4 `scenario_ended.outcome`) → its verb and `result.success`.
OUTCOME_VERBS: dict[str, tuple[Verb, bool | None]] = {
    "success": (PASSED, True),
    "failure": (FAILED, False),
    "partial": (COMPLETED, None),
}
