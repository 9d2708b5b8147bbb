"""The warm pool on Kubernetes: a fleet of ready streamer pods kept at a buffer.

Agones' Fleet with a buffer FleetAutoscaler is the model: the fleet should have
`buffer` ready, unclaimed pods on top of the ones serving sessions (or, with
`buffer_percent`, that share of all pods), and never fewer than `min` nor more than
`max` pods in all (`autoscale.warm_wanted`, a pure function).

One replica keeps the pool (it holds the Lease, `lease`); every replica
claims from it. The keeper, each period:

- counts the profile's pods from the backend's watch cache: ready warm, starting warm,
  bound (serving a session);
- starts the missing warm pods and waits for each (a task this fleet owns); a pod that
  fails to start is deleted, and starts back off while failures repeat;
- retires surplus ready pods (with packed claims, those on the least busy nodes first)
  safely: it first flips the pod from `warm` to `retiring`
  with the resourceVersion it read, so a claim racing for the same pod either wins
  (and the retirement backs off with 409) or loses; only then deletes it;
- reaps warm pods that can no longer serve (crashed, evicted, node lost, or still
  waiting for a key Secret that never came, `KEY_WAIT_S` after creation).

Pods pending for lack of a GPU count as starting: the pool does not pile up more pods
the scheduler cannot place.

Node drains (`drain`): warm pods on a cordoned node do not count towards the buffer
and are retired; pods there that serve a session are marked draining and stay.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from orchestrator.backends.base import StreamerProfile
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.autoscale import BufferPolicy, warm_wanted
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.client import KubeApiError
from orchestrator.backends.kubernetes.drain import DRAINING_ANNOTATION, DrainWatch
from orchestrator.backends.kubernetes.lease import LeaderLease
from orchestrator.backends.kubernetes.status import is_ready, key_never_came, pod_fate
from orchestrator.errors import OrchestratorError
from orchestrator.tasks import TaskOwner

log = structlog.get_logger("orchestrator.backends.kubernetes.fleet")

RETIRING = "retiring"
MAX_BACKOFF_S = 30.0
#: A pod's key Secret is created one request after the pod; a warm pod still without it
#: after this long lost its creator in between, and would hold its GPU forever. Seconds.
KEY_WAIT_S = 60.0


def fleet_target(
    *, bound: int, buffer: int, minimum: int, maximum: int, percent: int | None = None
) -> int:
    """Warm pods wanted: Agones' buffer policy, `clamp(bound + buffer, min, max) - bound`
    (never negative: pods that serve sessions are never taken away); see `autoscale`."""
    return warm_wanted(BufferPolicy(buffer, minimum, maximum, percent), bound)


@dataclass(frozen=True, slots=True)
class FleetCount:
    ready: int
    starting: int
    bound: int
    dead: tuple[str, ...]
    #: Warm pods on cordoned nodes (retired first) and bound ones not yet marked.
    drained: tuple[str, ...] = ()
    to_mark: tuple[str, ...] = ()


class WarmFleet:
    def __init__(
        self,
        backend: KubernetesBackend,
        profile: StreamerProfile,
        *,
        start_timeout_s: float,
    ) -> None:
        settings = backend.settings
        self.profile = profile
        #: The policy; plain attributes so an operator's change applies on the next round.
        self.buffer, self.minimum, self.maximum = (
            settings.pool_buffer,
            settings.pool_min,
            settings.pool_max,
        )
        self.buffer_percent = settings.pool_buffer_percent
        self._backend = backend
        self._start_timeout_s = start_timeout_s
        self._hash = m.profile_hash(profile)
        self._lease = LeaderLease(
            backend.client,
            f"{settings.instance}-warm-pool",
            backend.replica_id,
            settings.lease_duration_s,
            backend.clock,
        )
        self._drains = DrainWatch(
            backend.client, backend.node_load, backend.clock, settings.drain_interval_s
        )
        self._tasks = TaskOwner("warm-fleet")
        self._loop: asyncio.Task[None] | None = None
        self._failures = 0
        self._next_start_at = 0.0
        self._retiring: set[str] = set()
        self.leader = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop().create_task(self._run(), name="warm-fleet")

    async def close(self) -> None:
        """Stop keeping the pool; pods stay (the next keeper takes them over)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        await self._tasks.close()

    async def _run(self) -> None:
        interval = self._backend.settings.pool_interval_s
        while True:
            try:
                await self.reconcile()
            except (OrchestratorError, OSError, TimeoutError) as exc:
                log.warning("fleet.reconcile_failed", error=str(exc))
            await asyncio.sleep(interval)

    def count(self) -> FleetCount:
        ready = starting = bound = 0
        dead, drained, to_mark = [], [], []
        now = self._backend.clock.now()
        draining = self._backend.node_load.draining
        for name, pod in self._backend.pods().items():
            labels = pod["metadata"].get("labels") or {}
            if labels.get(m.PROFILE) != self._hash or pod["metadata"].get("deletionTimestamp"):
                continue
            state = labels.get(m.STATE)
            fate = pod_fate(pod)
            on_drained_node = (pod.get("spec") or {}).get("nodeName") in draining
            if state == m.BOUND:
                bound += fate is None
                marked = (pod["metadata"].get("annotations") or {}).get(DRAINING_ANNOTATION)
                if on_drained_node and fate is None and marked != "true":
                    to_mark.append(name)
            elif state == m.WARM:
                if fate is not None or key_never_came(pod, now, KEY_WAIT_S):
                    dead.append(name)
                elif on_drained_node:
                    drained.append(name)
                elif is_ready(pod):
                    ready += 1
                else:
                    starting += 1
        return FleetCount(ready, starting, bound, tuple(dead), tuple(drained), tuple(to_mark))

    async def reconcile(self) -> FleetCount:
        """One round: export the counts; if this replica keeps the pool, act on them."""
        await self._drains.refresh()
        count = self.count()
        for state, value in (
            ("ready", count.ready),
            ("starting", count.starting),
            ("bound", count.bound),
        ):
            self._backend.metrics.fleet_pods.labels(state).set(value)
        self.leader = await self._lease.try_acquire_or_renew()
        if not self.leader:
            return count
        for name in count.dead:
            log.info("fleet.reap_dead", streamer=name)
            self._tasks.spawn(self._backend.delete(name), name="reap")
        self._drain(count)
        wanted = fleet_target(
            bound=count.bound,
            buffer=self.buffer,
            minimum=self.minimum,
            maximum=self.maximum,
            percent=self.buffer_percent,
        )
        deficit = wanted - (count.ready + count.starting)
        in_flight = self._tasks.pending_named("start")
        if deficit > in_flight and self._backend.clock.now() >= self._next_start_at:
            for _ in range(deficit - in_flight):
                self._tasks.spawn(self._start_one(), name="start")
        elif deficit < 0:
            surplus = self._retire_order(
                [n for n in self._backend.warm_ready(self._hash) if n not in self._retiring]
            )
            for name in surplus[: -deficit - len(self._retiring)]:
                self._retiring.add(name)
                self._tasks.spawn(self._retire(name), name="retire")
        return count

    def _retire_order(self, names: list[str]) -> list[str]:
        """Surplus pods to retire first: with packed claims, those on the idlest nodes
        (fewest sessions, then fewest pods, whichever replica claimed them), so those
        nodes empty out for the autoscaler; else the oldest (the order given)."""
        if self._backend.settings.claim_placement != "pack":
            return names
        load, pods = self._backend.node_load, self._backend.pods()

        def idleness(name: str) -> tuple[int, int]:
            node = (pods[name].get("spec") or {}).get("nodeName") or ""
            return (load.sessions_on(node), load.pods_on(node))

        return sorted(names, key=idleness)

    def _drain(self, count: FleetCount) -> None:
        """Warm pods on cordoned nodes go first (safely, as surplus pods do); pods that
        serve a session there are marked and stay until the session ends."""
        for name in count.drained:
            if name not in self._retiring:
                log.info("fleet.drain_warm", streamer=name)
                self._retiring.add(name)
                self._tasks.spawn(self._retire(name), name="retire")
        for name in count.to_mark:
            self._tasks.spawn(self._mark_draining(name), name="mark")

    async def _mark_draining(self, name: str) -> None:
        patch = {"metadata": {"annotations": {DRAINING_ANNOTATION: "true"}}}
        try:
            await self._backend.client.merge_patch_pod(name, patch)
        except KubeApiError as exc:
            if exc.status != 404:
                log.warning("fleet.mark_draining_failed", streamer=name, error=str(exc))
            return
        log.info("fleet.session_on_draining_node", streamer=name)

    async def _start_one(self) -> None:
        try:
            streamer = await self._backend.spawn(self.profile, None)
        except OrchestratorError as exc:
            self._record_failure(exc.detail)
            return
        try:
            await self._backend.wait_ready(streamer.id, self._start_timeout_s)
        except OrchestratorError as exc:
            self._record_failure(exc.detail)
            await self._backend.delete(streamer.id)
            return
        self._failures = 0

    def _record_failure(self, detail: str) -> None:
        self._failures += 1
        delay = min(MAX_BACKOFF_S, 0.5 * 2 ** (self._failures - 1))
        self._next_start_at = self._backend.clock.now() + delay
        log.warning("fleet.start_failed", detail=detail, failures=self._failures, retry_in_s=delay)

    async def _retire(self, name: str) -> None:
        try:
            await self._retire_safely(name)
        finally:
            self._retiring.discard(name)

    async def _retire_safely(self, name: str) -> None:
        pod = self._backend.pods().get(name)
        if pod is None:
            return
        patch = {
            "metadata": {
                "resourceVersion": pod["metadata"]["resourceVersion"],
                "labels": {m.STATE: RETIRING},
            }
        }
        try:
            await self._backend.client.merge_patch_pod(name, patch)
        except KubeApiError as exc:
            if exc.status in (404, 409):
                return  # claimed (or changed) meanwhile: not ours to retire any more
            raise
        log.info("fleet.retire", streamer=name)
        await self._backend.delete(name)
