"""Node drains: a cordoned node gets no new session, its warm pods go first, and its
in-session pods stay until their session ends.

`kubectl drain` (and an operator who only cordons) first marks the node unschedulable
(`spec.unschedulable`), then evicts its pods through the Eviction API, which honours
PodDisruptionBudgets. Our streamer pods have no controller, so the in-session budget is
an integer `minAvailable` that allows no disruption (`k8s/pdb.yaml`): the drain keeps
retrying those evictions. The orchestrator does its part (the fleet's leader, each
round):

- every replica learns the cordoned nodes (`DrainWatch`, one field-selected list every
  `drain_interval_s`) and claims no warm pod there (`packing.NodeLoad.draining`);
- warm pods on a cordoned node no longer count towards the buffer (the scheduler puts
  replacements elsewhere) and are retired safely, as surplus pods are (a claim racing
  for one either wins or loses the resourceVersion race);
- pods serving a session are annotated `ixstream.io/draining: "true"` (so operators and
  the session see it) and are deleted as every session's pod is: when the session ends,
  or when the reaper ends it at its maximum duration. Then the drain completes.
"""

from __future__ import annotations

import structlog

from orchestrator.backends.kubernetes.client import KubeApiError, KubeClient
from orchestrator.backends.kubernetes.packing import NodeLoad
from orchestrator.clock import Clock

log = structlog.get_logger("orchestrator.backends.kubernetes.drain")

DRAINING_ANNOTATION = "ixstream.io/draining"


class DrainWatch:
    """The cordoned nodes, refreshed at most every `interval_s` seconds, written into
    `load.draining` (which claims consult)."""

    def __init__(self, client: KubeClient, load: NodeLoad, clock: Clock, interval_s: float) -> None:
        self._client = client
        self._load = load
        self._clock = clock
        self._interval_s = interval_s
        self._next_at = 0.0
        self._refused = False

    async def refresh(self) -> frozenset[str]:
        """The cordoned nodes now (the last answer while within the interval, or when
        the API refuses: a missing permission must not stop the pool)."""
        now = self._clock.now()
        if now >= self._next_at:
            self._next_at = now + self._interval_s
            try:
                answer = await self._client.list_cordoned_nodes()
            except KubeApiError as exc:
                if not self._refused:
                    log.warning("drain.nodes_unreadable", error=str(exc))
                self._refused = True
                return frozenset(self._load.draining)
            self._refused = False
            names = {item["metadata"]["name"] for item in answer.get("items") or []}
            for name in names - self._load.draining:
                log.info("drain.node_cordoned", node=name)
            self._load.draining.clear()
            self._load.draining.update(names)
        return frozenset(self._load.draining)
