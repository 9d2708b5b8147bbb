"""Pure decisions of delivery: what an LRS's answer means for a statement, and how long
to wait before the next attempt. Table-tested; no I/O.

- 2xx: stored (xAPI 1.0.3 Part Three §2.1.2, POST Statements: 200 with the ids).
- 409: the LRS already has a statement with this id (Part Three §2.1.1). Our ids are
  stable, so it is this one, sent before: delivered.
- 429 and 5xx, or no answer: the LRS is busy or down: try again later, after
  `Retry-After` when it says (RFC 9110 §10.2.3), else after an exponential backoff
  with jitter.
- 401/403: the LRS refuses our credentials, which is no fault of the statement: it
  stays queued and the error is logged until an operator fixes the configuration.
- Any other 4xx: the LRS refuses this statement for good: dead-lettered with the
  reason, and the next one goes.
- Anything else (a redirect): the endpoint is misconfigured: it stays queued.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

#: The longest `Retry-After` we honour, seconds: a misconfigured LRS must not park the
#: outbox for days.
MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True, slots=True)
class Delivered:
    already_stored: bool


@dataclass(frozen=True, slots=True)
class Retry:
    why: str
    #: Seconds the LRS asked us to wait (`Retry-After`), or None: our own backoff.
    after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str


Verdict = Delivered | Retry | Refused


def judge(status: int, retry_after: str | None, body: str, now: float) -> Verdict:
    """What an LRS's answer to one statement means."""
    if 200 <= status < 300:
        return Delivered(already_stored=False)
    if status == 409:
        return Delivered(already_stored=True)
    if status == 429 or status >= 500:
        why = "throttled" if status == 429 else "server_error"
        return Retry(why, parse_retry_after(retry_after, now))
    if status in (401, 403):
        return Retry("unauthorised")
    if 400 <= status < 500:
        return Refused(f"HTTP {status}: {body[:500]}")
    # A redirect (the endpoint moved, http → https) or anything stranger says nothing
    # about the statement: a configuration to fix, so it stays queued.
    return Retry("misdirected")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After` as seconds from `now`: delay-seconds or an HTTP-date (RFC 9110
    §10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, moment.timestamp() - now), MAX_RETRY_AFTER_S)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with equal jitter: attempt n waits between half and all of
    `initial · 2ⁿ`, capped at `maximum`, so replicas that failed together do not retry
    together."""

    initial_s: float
    maximum_s: float

    def delay(self, failures: int, rng: random.Random) -> float:
        ceiling = min(self.maximum_s, self.initial_s * 2 ** min(failures - 1, 32))
        return rng.uniform(ceiling / 2, ceiling)

    def wait(self, verdict: Retry, failures: int, rng: random.Random) -> float:
        """How long to wait after the `failures`-th failure in a row: what the LRS
        asked for, when it asked, else our backoff."""
        if verdict.after_s is not None:
            return verdict.after_s
        return self.delay(failures, rng)
