"""This replica's own warm pool: ready, unclaimed streamers, so a session starts by
claiming one instead of waiting for a process to start (Agones' Fleet with a buffer
autoscaler). It is the local backend's `WarmSupply`; on Kubernetes the pool is
cluster-wide instead (`backends/kubernetes/pool.py`).

`pool_deficit` is the policy, a pure function. `WarmPool` carries it out: it owns the
tasks that start streamers, tracks which are ready, backs off when starts keep failing
(a broken streamer must not become a fork bomb), and retires surplus streamers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from orchestrator.backends.base import (
    PoolFigures,
    SessionBackend,
    Streamer,
    StreamerPhase,
    StreamerProfile,
    WarmSupply,
)
from orchestrator.clock import Clock
from orchestrator.errors import OrchestratorError
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.tasks import TaskOwner

log = structlog.get_logger("orchestrator.pool")

MAX_BACKOFF_S = 30.0


def pool_deficit(*, desired: int, max_sessions: int, holding: int, warm: int) -> int:
    """How many warm streamers to start (positive) or retire (negative).

    The pool aims for `desired` warm streamers but never lets warm streamers plus
    sessions holding one exceed `max_sessions`: a warm streamer nobody may claim only
    burns a core. `warm` counts ready and starting ones alike, so starts in flight are
    not doubled.
    """
    target = max(0, min(desired, max_sessions - holding))
    return target - warm


def backoff_delay(consecutive_failures: int) -> float:
    """Seconds to wait before the next start after `consecutive_failures` in a row."""
    if consecutive_failures <= 0:
        return 0.0
    return float(min(MAX_BACKOFF_S, 0.5 * 2 ** (consecutive_failures - 1)))


def _unchanged() -> None:
    """`on_change` until `start` hands the real one over."""


class WarmPool(WarmSupply):
    def __init__(
        self,
        backend: SessionBackend,
        profile: StreamerProfile,
        *,
        desired: int,
        start_timeout_s: float,
        clock: Clock,
        metrics: OrchestratorMetrics,
    ) -> None:
        self.profile = profile
        self.desired = desired
        self._backend = backend
        self._start_timeout_s = start_timeout_s
        self._clock = clock
        self._metrics = metrics
        self._on_change: Callable[[], None] = _unchanged
        self._ready: dict[str, Streamer] = {}
        self._starting: set[str] = set()
        self._retiring: set[str] = set()
        self._tasks = TaskOwner("warm-pool")
        self._failures = 0
        self._next_start_at = 0.0

    @property
    def ready_count(self) -> int:
        return len(self._ready)

    @property
    def starting_count(self) -> int:
        return self._tasks.pending_named("spawn")

    def figures(self) -> PoolFigures:
        return PoolFigures(self.desired, self.ready_count, self.starting_count)

    def kept_here(self) -> PoolFigures:
        return self.figures()

    async def start(self, on_change: Callable[[], None]) -> None:
        """Nothing runs on its own: the service's reconcile loop drives `reconcile`."""
        self._on_change = on_change

    def owns(self, streamer: Streamer) -> bool:
        """Ours when recorded, or unbound and still starting young: a warm streamer
        between its spawn and the pool recording it."""
        if streamer.id in self._ready or streamer.id in self._starting:
            return True
        if streamer.id in self._retiring:
            return True
        young = self._clock.now() - streamer.created_at < self._start_timeout_s
        unbound = streamer.session_id is None
        return unbound and streamer.phase is StreamerPhase.STARTING and young

    async def claim(self, profile: StreamerProfile, session_id: str) -> Streamer | None:
        """Claim a ready streamer for `session_id` through the backend's atomic claim."""
        if profile != self.profile:
            return None
        streamer = await self._backend.claim(profile, session_id)
        if streamer is not None:
            self._ready.pop(streamer.id, None)
            self._on_change()
        return streamer

    async def adopt(self, streamer: Streamer) -> bool:
        """Take over a live warm streamer of the pool's profile a previous run left,
        ready or still starting."""
        if streamer.session_id is not None or streamer.profile != self.profile:
            return False
        observation = await self._backend.observe(streamer.id)
        if not observation.alive:
            return False
        if streamer.phase is StreamerPhase.READY:
            self._ready[streamer.id] = streamer
        else:
            self._starting.add(streamer.id)
            self._tasks.spawn(self._finish_start(streamer), name="spawn")
        log.info("pool.readopted", streamer=streamer.id)
        return True

    def reconcile(self, *, max_sessions: int, holding: int) -> None:
        """Start or retire streamers to meet the policy. Never blocks."""
        deficit = pool_deficit(
            desired=self.desired,
            max_sessions=max_sessions,
            holding=holding,
            warm=self.ready_count + self.starting_count,
        )
        if deficit > 0 and self._clock.now() >= self._next_start_at:
            for _ in range(deficit):
                self._tasks.spawn(self._start_one(), name="spawn")
        for _ in range(min(-deficit, len(self._ready))):
            streamer_id = next(iter(self._ready))
            del self._ready[streamer_id]
            log.info("pool.retire", streamer=streamer_id)
            self._retiring.add(streamer_id)
            self._tasks.spawn(self._retire(streamer_id), name="retire")

    async def check_health(self) -> None:
        """Drop ready streamers that died (kill -9, OOM); the next reconcile refills."""
        for streamer_id in list(self._ready):
            observation = await self._backend.observe(streamer_id)
            if not observation.alive and streamer_id in self._ready:
                del self._ready[streamer_id]
                log.warning("pool.streamer_died", streamer=streamer_id, detail=observation.detail)
                await self._backend.delete(streamer_id)
                self._on_change()

    async def close(self, *, stop_streamers: bool) -> None:
        """Cancel the pool's tasks; with `stop_streamers`, stop every warm streamer too.

        Without it, ready and starting streamers keep running for the next run to
        re-adopt. Deletes are idempotent, so one interrupted by the cancellation is
        simply done again here.
        """
        await self._tasks.close()
        doomed = set(self._retiring)
        if stop_streamers:
            doomed |= self._starting | set(self._ready)
        self._ready, self._starting, self._retiring = {}, set(), set()
        await asyncio.gather(*(self._backend.delete(s) for s in doomed))

    async def _retire(self, streamer_id: str) -> None:
        await self._backend.delete(streamer_id)
        self._retiring.discard(streamer_id)

    async def _start_one(self) -> None:
        try:
            streamer = await self._backend.spawn(self.profile, None)
        except OrchestratorError as exc:
            self._record_failure(f"spawn: {exc.detail}")
            return
        except Exception as exc:  # e.g. a full disk: back off rather than spin
            log.exception("pool.spawn_crashed")
            self._record_failure(f"spawn: {exc!r}")
            return
        self._starting.add(streamer.id)
        await self._finish_start(streamer)

    async def _finish_start(self, streamer: Streamer) -> None:
        try:
            ready = await self._backend.wait_ready(streamer.id, self._start_timeout_s)
        except OrchestratorError as exc:
            self._record_failure(exc.detail)
            await self._backend.delete(streamer.id)
            self._starting.discard(streamer.id)
            return
        self._starting.discard(streamer.id)
        self._ready[ready.id] = ready
        self._failures = 0
        self._metrics.streamer_spawns.labels("pool", "ready").inc()
        log.info(
            "pool.streamer_ready",
            streamer=ready.id,
            start_s=round((ready.ready_at or 0.0) - ready.created_at, 3),
        )
        self._on_change()

    def _record_failure(self, detail: str) -> None:
        self._failures += 1
        delay = backoff_delay(self._failures)
        self._next_start_at = self._clock.now() + delay
        self._metrics.streamer_spawns.labels("pool", "failed").inc()
        log.warning("pool.start_failed", detail=detail, failures=self._failures, retry_in_s=delay)
