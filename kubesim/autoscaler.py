"""A cluster autoscaler, reduced to the rules that decide when GPU nodes come and go.

Modelled on the Kubernetes cluster-autoscaler (its FAQ, "How does scale-up work?" and
"How does scale-down work?"), one `tick` at a time:

- **scale-up**: pods the scheduler marked `Unschedulable` for lack of a GPU, at or above
  the expendable cut-off priority (`--expendable-pods-priority-cutoff`, -10: lower pods
  never cause a scale-up), need nodes; the autoscaler orders enough for them (counting
  those already on their way), within `max_nodes`, and each joins `node_start_s` later.
- **scale-down**: a node is unneeded while the GPUs its pods request are below
  `utilization_threshold` of its GPUs and every pod on it may move: it has a controller
  (an owner reference) or the annotation `cluster-autoscaler.kubernetes.io/safe-to-evict:
  "true"`, and not `"false"`. A node unneeded for `unneeded_s` is drained (its pods
  evicted through the Eviction API, which honours PodDisruptionBudgets; a refusal keeps
  the node) and removed, never below `min_nodes`, and only while the other nodes have
  room for its pods (the real one simulates rescheduling them).

It also integrates the number of GPU nodes over time (`node_seconds`): the cost a
placement policy is judged by.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubesim import kinds
from kubesim.cluster import Cluster
from kubesim.errors import ApiError
from kubesim.fit import pod_requests
from kubesim.preemption import priority_of

Obj = dict[str, Any]
SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict"


@dataclass(frozen=True, slots=True)
class AutoscalerConfig:
    min_nodes: int = 1
    max_nodes: int = 50
    node_start_s: float = 0.5
    unneeded_s: float = 1.0
    utilization_threshold: float = 0.5
    expendable_cutoff: int = -10
    gpu_resource: str = "nvidia.com/gpu"


@dataclass(slots=True)
class AutoscalerStats:
    added: int = 0
    removed: int = 0
    node_seconds: float = 0.0
    peak_nodes: int = 0
    history: list[tuple[float, int]] = field(default_factory=list)


def may_move(pod: Obj) -> bool:
    """Whether the autoscaler may evict `pod` to remove its node."""
    meta = pod["metadata"]
    says = (meta.get("annotations") or {}).get(SAFE_TO_EVICT)
    if says is not None:
        return bool(says == "true")
    return bool(meta.get("ownerReferences"))


def unschedulable_for_gpu(pod: Obj) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
            return "Insufficient" in str(cond.get("message") or "")
    return False


class ClusterAutoscaler:
    def __init__(self, cluster: Cluster, config: AutoscalerConfig, gpus_per_node: int) -> None:
        self._cluster = cluster
        self.config = config
        self._gpus = gpus_per_node
        self._arriving: list[float] = []  # when ordered nodes join
        self._unneeded_since: dict[str, float] = {}
        self._last_tick: float | None = None
        self.stats = AutoscalerStats()

    def nodes(self) -> list[Obj]:
        return list(self._cluster.store.all(kinds.NODES))

    def tick(self, now: float) -> None:
        """One round at time `now` (seconds, any monotonic origin)."""
        count = len(self.nodes())
        if self._last_tick is not None:
            self.stats.node_seconds += count * (now - self._last_tick)
        self._last_tick = now
        self.stats.peak_nodes = max(self.stats.peak_nodes, count)
        self.stats.history.append((now, count))
        self._join_arrived(now)
        self._scale_up(now)
        self._scale_down(now)

    def _join_arrived(self, now: float) -> None:
        due = [t for t in self._arriving if t <= now]
        if due:
            self._arriving = [t for t in self._arriving if t > now]
            self._cluster.add_nodes(len(due))
            self.stats.added += len(due)

    def _scale_up(self, now: float) -> None:
        pods = self._cluster.store.all(kinds.PODS)
        wanted = sum(
            pod_requests(p)[self.config.gpu_resource]
            for p in pods
            if not (p.get("spec") or {}).get("nodeName")
            and unschedulable_for_gpu(p)
            and priority_of(p, self._cluster.scheduler.priority_classes)
            >= self.config.expendable_cutoff
        )
        on_the_way = len(self._arriving) * self._gpus
        more = math.ceil(max(0, wanted - on_the_way) / self._gpus)
        room = self.config.max_nodes - len(self.nodes()) - len(self._arriving)
        for _ in range(max(0, min(more, room))):
            self._arriving.append(now + self.config.node_start_s)

    def _scale_down(self, now: float) -> None:
        by_node: dict[str, list[Obj]] = {}
        for pod in self._cluster.store.all(kinds.PODS):
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                by_node.setdefault(node, []).append(pod)
        nodes = [n["metadata"]["name"] for n in self.nodes()]
        removable = len(nodes) - self.config.min_nodes
        used = {n: self._gpus_of(by_node.get(n, [])) for n in nodes}
        for name in sorted(nodes):
            pods = by_node.get(name, [])
            room_elsewhere = sum(self._gpus - used[n] for n in nodes if n != name)
            if not self._unneeded(pods) or self._arriving or room_elsewhere < used[name]:
                self._unneeded_since.pop(name, None)
                continue
            since = self._unneeded_since.setdefault(name, now)
            if removable > 0 and now - since >= self.config.unneeded_s and self._drain(pods):
                self._cluster.store.remove(kinds.NODES, "", name)
                self._unneeded_since.pop(name, None)
                nodes.remove(name)
                self.stats.removed += 1
                removable -= 1

    def _gpus_of(self, pods: Iterable[Obj]) -> int:
        return sum(pod_requests(p)[self.config.gpu_resource] for p in pods)

    def _unneeded(self, pods: list[Obj]) -> bool:
        """Below the utilization threshold, and every pod may move."""
        low = self._gpus_of(pods) < self.config.utilization_threshold * self._gpus
        return low and all(may_move(p) for p in pods)

    def _drain(self, pods: list[Obj]) -> bool:
        for pod in pods:
            meta = pod["metadata"]
            try:
                self._cluster.registry.evict(meta["namespace"], meta["name"], {})
            except ApiError:
                return False  # a disruption budget (or a race) keeps the node for now
        return True
