"""Retrying API calls that met a busy or failing API server, bounded in tries and time.

An API server under load sheds requests with `429 Too Many Requests` and a
`Retry-After` header (API Priority and Fairness, "Protecting the API server": the
request was rejected before it was handled), and answers `500`/`502`/`503`/`504` or
drops the connection when it or a proxy in front of it is struggling. client-go
retries such requests itself (`rest/request.go`, `checkWait`/`IsRetryableError`); the
generated Python client does not, so the backend does it here, for every call.

A retry waits the server's `Retry-After` when it sent one, else a full-jitter
exponential back-off (AWS architecture blog, "Exponential Backoff And Jitter"), so
replicas that failed together do not retry together. It gives up after `attempts`
tries or once the next wait would pass `deadline_s`, whichever comes first, and
raises the last error.

Only a 429 is known not to have been applied. After any other failure the request may
have taken effect with its answer lost, so the error finally raised carries
`after_unknown_outcome`: a create that then meets 409 AlreadyExists reads the object to
see whether it was our own first try (`client`), and a claim that meets 409 Conflict
checks whether the pod is already bound to its session (`claims`). 409 and the other
4xx answers are decisions, never retried here.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp
import structlog

from orchestrator.backends.kubernetes.errors import KubeApiError

log = structlog.get_logger("orchestrator.backends.kubernetes")

T = TypeVar("T")

#: Statuses worth another try (client-go `IsRetryableError` and `checkWait`).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Failures below HTTP: connection refused or reset, a truncated body, a read timeout.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    TimeoutError,
    ConnectionError,
)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long one API call keeps trying.

    `attempts` tries in all (1: never retry); no wait may end later than `deadline_s`
    seconds after the first try began; back-off waits are drawn from
    `[0, min(cap_s, base_s * 2**failures)]`; a `Retry-After` is honoured as sent, but
    never beyond `cap_s` (a server asking for minutes is better answered by failing
    the one request than by holding a session start that long).
    """

    attempts: int = 6
    deadline_s: float = 10.0
    base_s: float = 0.05
    cap_s: float = 2.0

    def wait_s(self, failures: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds to wait before the next try after `failures` failed ones."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.cap_s)
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2 ** min(failures, 16)))


def is_retryable(exc: BaseException) -> bool:
    """Whether another try of the same request may succeed."""
    if isinstance(exc, KubeApiError):
        return exc.status in RETRYABLE_STATUSES
    return isinstance(exc, TRANSPORT_ERRORS)


def outcome_unknown(exc: BaseException) -> bool:
    """Whether the failed request may nevertheless have been applied.

    Only a 429 is refused before the request is handled (APF rejects at admission);
    after a 5xx or a lost connection the write may have been committed.
    """
    return not (isinstance(exc, KubeApiError) and exc.status == 429)


@dataclass(slots=True)
class Retrier:
    """Runs API calls under one `RetryPolicy`. `sleep` and `monotonic` are injected so
    tests run on a clock they move by hand."""

    policy: RetryPolicy
    sleep: Sleep = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    #: Called with the failed call's name on every retry (a metric, a test's count).
    on_retry: Callable[[str], None] | None = None

    async def run(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Await `call()` until it succeeds or the policy gives up; `what` names it in logs."""
        started = self.monotonic()
        failures = 0
        unknown = False
        while True:
            try:
                return await call()
            except BaseException as exc:
                wait = self._next_wait(exc, failures, started)
                if wait is None:
                    if unknown and isinstance(exc, KubeApiError):
                        exc.after_unknown_outcome = True
                    raise
                unknown = unknown or outcome_unknown(exc)
                failures += 1
                log.warning("kubernetes.retry", call=what, error=repr(exc), wait_s=round(wait, 3))
                if self.on_retry is not None:
                    self.on_retry(what)
                await self.sleep(wait)

    def _next_wait(self, exc: BaseException, failures: int, started: float) -> float | None:
        """The wait before another try, or None to give up with `exc`."""
        if not is_retryable(exc) or failures + 1 >= self.policy.attempts:
            return None
        retry_after = exc.retry_after_s if isinstance(exc, KubeApiError) else None
        wait = self.policy.wait_s(failures, retry_after, self.rng)
        if self.monotonic() - started + wait > self.policy.deadline_s:
            return None
        return wait
