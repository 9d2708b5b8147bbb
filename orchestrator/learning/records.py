"""Learning records as the app's lifespan sees them: one object to build from the
settings, start, hand to the session service, and close.

Off unless `IXS_ORCH_LEARNING__LRS_ENDPOINT` is set: then the recorder's hooks return
at once, no outbox is created and no connection is ever made.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import structlog

from orchestrator.clock import Clock
from orchestrator.learning.outbox import Outbox
from orchestrator.learning.recorder import LearningRecorder
from orchestrator.learning.sender import StatementSender
from orchestrator.learning.settings import LearningSettings
from orchestrator.learning.statements import Vocabulary
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.tasks import TaskOwner

log = structlog.get_logger("orchestrator.learning")

#: On a clean stop, time allowed to send what the last moments queued (the sessions
#: the shutdown ended), seconds; what is left waits on disk for the next run.
FLUSH_ON_CLOSE_S = 3.0


class LearningRecords:
    def __init__(
        self,
        settings: LearningSettings,
        state_dir: Path,
        clock: Clock,
        metrics: OrchestratorMetrics,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._tasks = TaskOwner("learning")
        self.sender: StatementSender | None = None
        self.outbox: Outbox | None = None
        self._http: httpx.AsyncClient | None = None
        self._delivering: asyncio.Task[None] | None = None
        self.recorder = LearningRecorder.off()
        if not settings.enabled:
            return
        assert settings.activity_base is not None
        assert settings.actor_home_page is not None
        self.outbox = Outbox(settings.outbox_dir or state_dir / "learning")
        self._http = httpx.AsyncClient(trust_env=False, timeout=settings.timeout_s)
        self.sender = StatementSender(
            settings=settings, outbox=self.outbox, http=self._http, clock=clock, metrics=metrics
        )
        words = Vocabulary(settings.activity_base, settings.actor_home_page)
        self.recorder = LearningRecorder(words, self.outbox, metrics, self.sender.wake)

    async def start(self) -> None:
        """Open the outbox (what a previous run left is delivered first) and start
        delivering."""
        if self.outbox is None or self.sender is None:
            log.info("learning.off")
            return
        self.outbox.open(self._clock.now(), self._settings.delivered_retention_days)
        self._delivering = self._tasks.spawn(self.sender.run_forever(), name="deliver")
        log.info("learning.on", lrs=self._settings.lrs_endpoint, waiting=len(self.outbox))

    async def close(self) -> None:
        """Stop delivering, after one bounded last round (the sessions the shutdown
        ended); what is still queued stays on disk for the next run."""
        if self.sender is not None and self._delivering is not None:
            self.sender.finish()
            finished, _ = await asyncio.wait({self._delivering}, timeout=FLUSH_ON_CLOSE_S)
            if not finished:
                log.warning(
                    "learning.flush_incomplete",
                    waiting=len(self.outbox) if self.outbox is not None else 0,
                )
        await self._tasks.close()
        if self._http is not None:
            await self._http.aclose()
