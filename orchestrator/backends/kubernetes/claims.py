"""Claiming a warm pod: compare-and-swap on its resourceVersion, so two orchestrator
replicas never hand out the same pod (DESIGN.md §3; Agones' allocator is the model).

A claim picks a ready warm pod of the profile at random from the warm index (so
replicas claiming at once rarely pick the same one) and flips it to `bound` with a
merge patch that carries the resourceVersion it read (`manifests.claim_patch`). The API
server applies it only if nobody changed the pod since (api-conventions.md,
"Concurrency Control and Consistency"); a 409 Conflict means another replica (or
request) won, so the claim tries another pod after a short jittered back-off. A 404
means the pod went meanwhile: try another. Two claims can never both succeed on one
pod. A patch whose answer was lost is retried by the client (`retry`); its retry meets
409 when the first try won, so a 409 after a lost answer reads the pod to tell our own
win from another's.

Between our patch succeeding and the watch bringing it back, the cache still shows the
pod warm. The claimer keeps its own view of such pods (`overlay`) so that neither a
later claim nor the backend's `list` takes them for free meanwhile.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from orchestrator.backends.base import Streamer, StreamerProfile
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.client import KubeApiError, KubeClient
from orchestrator.backends.kubernetes.metrics import KubernetesMetrics
from orchestrator.backends.kubernetes.retry import TRANSPORT_ERRORS
from orchestrator.backends.kubernetes.warm_index import WarmIndex
from orchestrator.clock import Clock
from orchestrator.errors import BackendError

log = structlog.get_logger("orchestrator.backends.kubernetes")

Pod = dict[str, Any]
#: Turns the API server's answer to a claim (a full pod) into the claimed streamer.
ViewOf = Callable[[Pod], Streamer]


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What one claim cost: attempts made and conflicts met (for metrics and tests)."""

    streamer: Streamer | None
    attempts: int
    conflicts: int


@dataclass(frozen=True, slots=True)
class ClaimPolicy:
    """How hard one claim tries: at most `attempts` pods, backing off from `backoff_s`
    (seconds) after each conflict."""

    attempts: int
    backoff_s: float


def jitter(base_s: float, conflicts: int) -> float:
    """Full-jitter exponential back-off (AWS architecture blog, "Exponential Backoff And
    Jitter"): spreads replicas that collided so they do not collide again."""
    return random.uniform(0, base_s * 2 ** min(conflicts, 6))


class Claimer:
    """One replica's claims on the warm pods its watch cache (`pods`) and warm index
    know of; `replica` is written on each pod it wins."""

    def __init__(
        self,
        client: KubeClient,
        pods: Mapping[str, Pod],
        warm: WarmIndex,
        view_of: ViewOf,
        metrics: KubernetesMetrics,
        *,
        policy: ClaimPolicy,
        replica: str,
        clock: Clock,
    ) -> None:
        self._client = client
        self._pods = pods
        self._warm = warm
        self._view_of = view_of
        self._metrics = metrics
        self._policy = policy
        self._replica = replica
        self._clock = clock
        self._rng = random.Random()
        self._claiming: set[str] = set()
        # Won by us, still warm in the cache (the watch has not brought our patch yet).
        self._claimed: dict[str, Streamer] = {}

    def busy(self, name: str) -> bool:
        """A claim of ours is patching this pod, or has won it: it is not free."""
        return name in self._claiming or name in self._claimed

    def overlay(self, name: str) -> Streamer | None:
        """The claimed view of a pod we won that the cache still shows warm."""
        return self._claimed.get(name)

    def settle(self, name: str) -> None:
        """The cache shows the pod no longer warm (or gone): its own view is true now."""
        self._claimed.pop(name, None)

    async def claim(self, profile: StreamerProfile, session_id: str) -> ClaimOutcome:
        """Bind a ready warm pod of `profile` to `session_id`, or find none free."""
        started = time.perf_counter()
        tried: set[str] = set()
        conflicts = attempts = 0
        wanted = m.profile_hash(profile)
        while attempts < self._policy.attempts:
            name = self._warm.pick(wanted, lambda n: n not in tried and not self.busy(n), self._rng)
            if name is None:
                break
            attempts += 1
            self._claiming.add(name)
            try:
                updated = await self._client.merge_patch_pod(name, self._patch(name, session_id))
            except KubeApiError as exc:
                tried.add(name)
                mine = await self._already_ours(name, session_id, exc)
                if mine is not None:
                    updated = mine
                elif exc.status == 409:
                    conflicts += 1
                    self._metrics.claim_conflicts.inc()
                    await asyncio.sleep(jitter(self._policy.backoff_s, conflicts))
                    continue
                elif exc.status == 404:
                    continue
                else:
                    raise BackendError(f"claiming pod {name}: {exc}") from exc
            except TRANSPORT_ERRORS as exc:  # still failing after the client's retries
                raise BackendError(f"claiming pod {name}: {exc!r}") from exc
            finally:
                # Only now: during the back-off, our other claims still pass this pod by.
                self._claiming.discard(name)
            streamer = self._won(name, updated)
            self._metrics.claims.labels("claimed").inc()
            self._metrics.claim_seconds.observe(time.perf_counter() - started)
            log.info("streamer.claimed", streamer=name, session=session_id, conflicts=conflicts)
            return ClaimOutcome(streamer, attempts, conflicts)
        self._metrics.claims.labels("none_free").inc()
        return ClaimOutcome(None, attempts, conflicts)

    async def _already_ours(self, name: str, session_id: str, exc: KubeApiError) -> Pod | None:
        """The pod, if a try of ours whose answer was lost already won it.

        A claim patch retried after a lost answer meets 409: the first try changed the
        resourceVersion it carries. That 409 is our own win coming back when the pod
        is bound to this session by this replica; anything else is someone else's win.
        """
        if exc.status != 409 or not exc.after_unknown_outcome:
            return None
        try:
            pod = await self._client.get_pod(name)
        except KubeApiError:
            return None
        annotations = pod["metadata"].get("annotations") or {}
        ours = (
            annotations.get(m.SESSION_ANNOTATION) == session_id
            and annotations.get(m.CLAIMED_BY_ANNOTATION) == self._replica
        )
        return pod if ours else None

    def _patch(self, name: str, session_id: str) -> Pod:
        """The compare-and-swap: the claim patch with the resourceVersion we read."""
        return m.claim_patch(
            self._pods[name]["metadata"]["resourceVersion"],
            session_id,
            claimed_by=self._replica,
            claimed_at=self._clock.now(),
        )

    def _won(self, name: str, updated: Pod) -> Streamer:
        streamer = self._view_of(updated)
        cached = self._pods.get(name)
        if cached is not None and (cached["metadata"].get("labels") or {}).get(m.STATE) == m.WARM:
            self._claimed[name] = streamer
        return streamer
