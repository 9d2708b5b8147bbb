"""Faults on purpose: the simulator behaving like an API server under load.

A real API server sheds load with `429 Too Many Requests` and `Retry-After` (API
Priority and Fairness), answers `500`/`503`/`504` when it or etcd struggles (a `504`
may come after the write was committed: "the request did not complete within the
allowed duration"), is slow, and loses watch connections, sometimes silently (a load
balancer that drops an idle flow sends nothing). A `FaultPlan` makes the simulator do
each of those to chosen requests, so the backend's handling of them is tested.

A plan is a list of `Fault` rules, off (empty) by default. Each request is matched
against them in order by its RBAC verb (`create`, `get`, `list`, `watch`, `patch`, ...)
and resource (`pods`, `leases`, ...); the first rule that matches and fires (`times`
left, `probability`) applies to it. Tests set the plan directly or over HTTP
(`/_sim/faults`: POST adds rules, GET shows them with their hits, DELETE clears).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any, Literal

from kubesim.errors import ApiError, BadRequest

#: The `Status` reason the API server gives each status it may answer under load
#: (k8s.io/apimachinery/pkg/api/errors).
REASONS = {
    429: "TooManyRequests",
    500: "InternalError",
    502: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
WatchFault = Literal["drop", "silent"]


class DroppedConnection(Exception):  # noqa: N818 (what happens, not an error class)
    """Raised inside a watch stream to end its connection without a last chunk."""


class InjectedFailure(ApiError):  # noqa: N818 (the API's answer, as ApiError's kin)
    """The status a fault answers with, as the API server would send it."""

    def __init__(self, code: int, retry_after_s: int | None) -> None:
        super().__init__(f"kubesim: injected {code} {REASONS[code]}")
        self.code = code
        self.reason = REASONS[code]
        self.retry_after_s = retry_after_s

    def status(self) -> dict[str, Any]:
        body = super().status()
        if self.retry_after_s is not None:
            # NewTooManyRequests and NewServerTimeout put the wait in the details too.
            body["details"] = {"retryAfterSeconds": self.retry_after_s}
        return body

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_s is None else {"Retry-After": str(self.retry_after_s)}


@dataclass(slots=True)
class Fault:
    """One rule. Unset `verb`/`resource` match any. `times` None: every match."""

    verb: str | None = None
    resource: str | None = None
    #: Answer this status (429, 500, 502, 503, 504) ...
    status: int | None = None
    #: ... with this `Retry-After`, seconds ...
    retry_after_s: int | None = None
    #: ... after applying the request (its answer is lost, its effect is not).
    commit: bool = False
    #: Hold the request this long first, seconds (slow responses).
    delay_s: float = 0.0
    #: Watches: after `after_events` events, end the connection abruptly ("drop") or
    #: keep it open and send nothing more, not even bookmarks ("silent").
    watch: WatchFault | None = None
    after_events: int = 0
    times: int | None = 1
    probability: float = 1.0
    #: Requests this rule applied to, and how many of them have been answered since.
    hits: int = 0
    settled: int = 0

    def matches(self, verb: str, resource: str) -> bool:
        return (self.verb is None or self.verb == verb) and (
            self.resource is None or self.resource == resource
        )

    def failure(self) -> InjectedFailure | None:
        return None if self.status is None else InjectedFailure(self.status, self.retry_after_s)

    def describe(self) -> dict[str, Any]:
        return {
            "verb": self.verb,
            "resource": self.resource,
            "status": self.status,
            "retryAfterSeconds": self.retry_after_s,
            "commit": self.commit,
            "delaySeconds": self.delay_s,
            "watch": self.watch,
            "afterEvents": self.after_events,
            "times": self.times,
            "probability": self.probability,
            "hits": self.hits,
            "settled": self.settled,
        }


@dataclass(slots=True)
class FaultPlan:
    """The rules in force; `take` decides the fault (if any) of one request."""

    faults: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, verb: str, resource: str) -> Fault | None:
        for fault in self.faults:
            if not fault.matches(verb, resource) or fault.times == 0:
                continue
            if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                continue
            if fault.times is not None:
                fault.times -= 1
            fault.hits += 1
            return fault
        return None


_FIELDS = {
    "verb": "verb",
    "resource": "resource",
    "status": "status",
    "retryAfterSeconds": "retry_after_s",
    "commit": "commit",
    "delaySeconds": "delay_s",
    "watch": "watch",
    "afterEvents": "after_events",
    "times": "times",
    "probability": "probability",
}


def fault_from_json(body: Any) -> Fault:
    """A rule from its JSON form (`describe`'s keys); a precise 400 for anything else."""
    if not isinstance(body, dict):
        raise BadRequest("a fault is a JSON object")
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise BadRequest(f"unknown fault fields {unknown}; known: {sorted(_FIELDS)}")
    fault = Fault(**{_FIELDS[k]: v for k, v in body.items()})
    _check(fault)
    return fault


def _check(fault: Fault) -> None:
    if fault.status is not None and fault.status not in REASONS:
        raise BadRequest(f"status must be one of {sorted(REASONS)}, not {fault.status!r}")
    if fault.watch not in (None, "drop", "silent"):
        raise BadRequest(f"watch must be 'drop' or 'silent', not {fault.watch!r}")
    if fault.watch is not None and fault.verb not in (None, "watch"):
        raise BadRequest("a watch fault applies to the verb 'watch' only")
    for name in ("retry_after_s", "after_events", "times"):
        value = getattr(fault, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise BadRequest(f"{name} must be an integer")
        if value is not None and value < 0:
            raise BadRequest(f"{name} must not be negative")
    if not isinstance(fault.delay_s, int | float) or not 0 <= fault.delay_s <= 600:
        raise BadRequest("delaySeconds must be a number from 0 to 600")
    if not isinstance(fault.probability, int | float) or not 0 < fault.probability <= 1:
        raise BadRequest("probability must be in (0, 1]")
    if fault.commit and fault.status is None:
        raise BadRequest("commit needs a status to answer after applying the request")


class _QuietDrops(logging.Filter):
    """Keeps a dropped watch (on purpose) out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def quiet_dropped_connections() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())
