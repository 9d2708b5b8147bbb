"""The delivery task: statements from the outbox to the LRS, one at a time, in order.

Each statement is its own `POST <endpoint>/statements` (xAPI 1.0.3 Part Three §2.1.2)
with `X-Experience-API-Version` (Part Three §6.2) and the configured Basic (RFC 7617)
or bearer (RFC 6750) credentials, so an answer always concerns exactly one statement
(`policy.judge`). A statement leaves the outbox only once the LRS has it or refused it
for good; while the LRS is down or busy the queue waits (`not_before`) and keeps its
order.

`step()` does what is due now by the injected clock and returns: tests drive it on a
manual clock, and `run_forever` (owned by `LearningRecords`) drives it on the real one,
woken early when a statement is queued.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random

import httpx
import structlog

from orchestrator.clock import Clock
from orchestrator.learning.outbox import Outbox, Pending
from orchestrator.learning.policy import Backoff, Delivered, Refused, Retry, Verdict, judge
from orchestrator.learning.settings import LearningSettings
from orchestrator.learning.vocabulary import XAPI_VERSION
from orchestrator.metrics import OrchestratorMetrics

log = structlog.get_logger("orchestrator.learning")


def request_headers(settings: LearningSettings) -> dict[str, str]:
    """The version header and the credentials, as the LRS expects them on every call."""
    headers = {"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json"}
    if settings.lrs_token is not None:
        headers["Authorization"] = f"Bearer {settings.lrs_token.get_secret_value()}"
    elif settings.lrs_username is not None and settings.lrs_password is not None:
        pair = f"{settings.lrs_username}:{settings.lrs_password.get_secret_value()}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return headers


class StatementSender:
    def __init__(
        self,
        *,
        settings: LearningSettings,
        outbox: Outbox,
        http: httpx.AsyncClient,
        clock: Clock,
        metrics: OrchestratorMetrics,
        rng: random.Random | None = None,
    ) -> None:
        assert settings.lrs_endpoint is not None
        self._url = settings.lrs_endpoint.rstrip("/") + "/statements"
        self._headers = request_headers(settings)
        self._outbox = outbox
        self._http = http
        self._clock = clock
        self._metrics = metrics
        self._rng = rng or random.Random()
        self._backoff = Backoff(settings.retry_initial_s, settings.retry_max_s)
        self._wake = asyncio.Event()
        self._finishing = False
        self._failures = 0
        #: No attempt before this clock time (backoff or the LRS's `Retry-After`).
        self.not_before = 0.0

    def wake(self) -> None:
        """A statement was queued: deliver it now, unless we are waiting out a failure."""
        self._wake.set()

    def finish(self) -> None:
        """Make `run_forever` deliver what is due now and return, rather than be
        cancelled: a request cancelled after the LRS stored the statement, but before
        its answer came, would leave the statement queued and send it a second time."""
        self._finishing = True
        self._wake.set()

    async def step(self) -> None:
        """Deliver every due statement, in order, until the outbox is empty or the LRS
        asks us to wait."""
        while self._clock.now() >= self.not_before:
            item = self._outbox.head()
            if item is None:
                break
            verdict = await self._send(item)
            self._apply(item, verdict)
        self._metrics.lrs_outbox.set(len(self._outbox))

    async def run_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.step()
            except Exception:  # the disk, or a bug: keep going, not in a tight loop
                log.exception("learning.step_failed")
                self._wait(Retry("step_failed"))
            if self._finishing:
                return
            delay = self.not_before - self._clock.now()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay if delay > 0 else None):
                    await self._wake.wait()

    async def _send(self, item: Pending) -> Verdict:
        try:
            response = await self._http.post(self._url, json=item.statement, headers=self._headers)
        except httpx.HTTPError:
            return Retry("unreachable")
        return judge(
            response.status_code, response.headers.get("Retry-After"), response.text,
            self._clock.now(),
        )  # fmt: skip

    def _apply(self, item: Pending, verdict: Verdict) -> None:
        match verdict:
            case Delivered(already_stored):
                self._outbox.delivered(item)
                self._failures = 0
                outcome = "already_stored" if already_stored else "delivered"
                self._metrics.lrs_statements.labels(outcome).inc()
                log.info("learning.delivered", statement=item.id, already_stored=already_stored)
            case Refused(reason):
                where = self._outbox.dead_letter(item, reason)
                self._metrics.lrs_statements.labels("dead_lettered").inc()
                log.error("learning.refused", statement=item.id, reason=reason, kept=str(where))
            case Retry():
                self._wait(verdict)
                ours = verdict.why in ("unauthorised", "misdirected")  # configuration
                log_at = log.error if ours else log.warning
                log_at(
                    "learning.delivery_delayed",
                    statement=item.id,
                    why=verdict.why,
                    retry_in_s=round(self.not_before - self._clock.now(), 3),
                )

    def _wait(self, verdict: Retry) -> None:
        self._failures += 1
        self._metrics.lrs_attempt_failures.labels(verdict.why).inc()
        self.not_before = self._clock.now() + self._backoff.wait(verdict, self._failures, self._rng)
