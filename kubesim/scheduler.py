"""The scheduler: binds pending pods to nodes that fit them, first come first served.

For each unbound pod (in creation order) it runs the filters in `fit` over the nodes,
starting where the last search stopped so pods spread over a thousand nodes without
scoring them all (kube-scheduler samples a share of large clusters for the same
reason), and binds the pod to the first node that fits: `spec.nodeName` and
`PodScheduled=True`. A pod nothing fits stays `Pending` with `PodScheduled=False`,
reason `Unschedulable`, and kube-scheduler's "0/N nodes are available" message; it is
retried whenever capacity may have appeared (a node added or changed, a pod gone).

Pods that ask for the same thing are scheduled alike (kube-scheduler's equivalence
classes): once one fails in a pass, its twins fail at once without a scan, which keeps
a long queue of GPU pods cheap while the cluster is full.

Two scorings, as kube-scheduler's NodeResourcesFit plugin offers (its
`scoringStrategy` in a KubeSchedulerConfiguration):

- `LeastAllocated` (the default): here the first fitting node from a rotating cursor,
  which spreads pods over the nodes without scoring them all;
- `MostAllocated`: every node is scored, the fullest fitting one wins (by the share of
  each requested resource already requested, the GPU included): bin-packing, so that
  nodes empty out and a cluster autoscaler can remove them.

A pod that fits nowhere may preempt pods of lower priority (`preemption`): the victims
are deleted and the pod is bound to their node at once. `priority_classes` stands in
for the cluster's PriorityClass objects (name -> value).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

from kubesim import kinds
from kubesim.conditions import condition, with_condition
from kubesim.fit import NodeInfo, fit_failure, pod_host_ports, pod_requests, unschedulable_message
from kubesim.preemption import Victims, best_victims, priority_of, victims_on
from kubesim.store import Event, Obj, Store

Key = tuple[str, str]
Scoring = Literal["LeastAllocated", "MostAllocated"]


def _key(obj: Obj) -> Key:
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def _bound_and_running(pod: Obj) -> bool:
    return bool(pod.get("spec", {}).get("nodeName")) and pod.get("status", {}).get("phase") not in (
        "Succeeded",
        "Failed",
    )


class Scheduler:
    def __init__(
        self,
        store: Store,
        scoring: Scoring = "LeastAllocated",
        priority_classes: Mapping[str, int] | None = None,
    ) -> None:
        self._store = store
        self.scoring: Scoring = scoring
        self.priority_classes = dict(priority_classes or {})
        self._priorities: Counter[int] = Counter()  # of bound pods: who could be preempted
        self._nodes: dict[str, NodeInfo] = {}
        self._order: list[str] = []
        self._cursor = 0
        self._pending: dict[Key, None] = {}  # insertion-ordered set
        self._bound: dict[Key, tuple[str, Counter[str], set[int]]] = {}
        self._bound_priority: dict[Key, int] = {}
        self._wake = asyncio.Event()
        store.subscribe(self._on_event)

    # --- watching the store ----------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.kind is kinds.NODES:
            self._on_node(event)
        elif event.kind is kinds.PODS:
            self._on_pod(event)

    def _on_node(self, event: Event) -> None:
        name = event.obj["metadata"]["name"]
        if event.type == "DELETED":
            self._nodes.pop(name, None)
            self._order = [n for n in self._order if n != name]
            return
        info = NodeInfo.from_node(event.obj)
        old = self._nodes.get(name)
        if old is not None:
            info.requested, info.host_ports = old.requested, old.host_ports
        else:
            self._order.append(name)
        self._nodes[name] = info
        self._wake.set()

    def _on_pod(self, event: Event) -> None:
        key = _key(event.obj)
        if event.type != "DELETED" and not event.obj.get("spec", {}).get("nodeName"):
            if key not in self._pending:
                self._pending[key] = None
                self._wake.set()
            return
        self._pending.pop(key, None)
        if event.type == "DELETED" or not _bound_and_running(event.obj):
            self._release(key)
        elif key not in self._bound:  # bound elsewhere (a static pod, an API `nodeName`)
            self._reserve(key, event.obj, event.obj["spec"]["nodeName"])

    def _reserve(self, key: Key, pod: Obj, node_name: str) -> None:
        requests, ports = pod_requests(pod), pod_host_ports(pod)
        self._bound[key] = (node_name, requests, ports)
        self._priorities[priority_of(pod, self.priority_classes)] += 1
        self._bound_priority[key] = priority_of(pod, self.priority_classes)
        node = self._nodes.get(node_name)
        if node is not None:
            node.requested.update(requests)
            node.host_ports |= ports

    def _release(self, key: Key) -> None:
        entry = self._bound.pop(key, None)
        if entry is None:
            return
        self._priorities[self._bound_priority.pop(key, 0)] -= 1
        node_name, requests, ports = entry
        node = self._nodes.get(node_name)
        if node is not None:
            node.requested.subtract(requests)
            node.host_ports -= ports
        if self._pending:
            self._wake.set()

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    # --- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self.schedule_pending()
            await asyncio.sleep(0)

    def schedule_pending(self) -> None:
        """One pass over the queue, oldest first."""
        failed: dict[str, tuple[str, Counter[str]]] = {}
        for key in list(self._pending):
            pod = self._store.find(kinds.PODS, *key)
            if (
                pod is None
                or pod.get("spec", {}).get("nodeName")
                or pod["metadata"].get("deletionTimestamp")
            ):
                self._pending.pop(key, None)
                continue
            twin = _equivalence(pod)
            if twin in failed:
                self._mark_unschedulable(pod, failed[twin][0])
                continue
            node, reasons = self._find_node(pod)
            if node is None:
                node = self._preempt_for(pod)
            if node is None:
                message = unschedulable_message(len(self._order), reasons)
                failed[twin] = (message, reasons)
                self._mark_unschedulable(pod, message)
            else:
                self._bind(pod, node)

    def _find_node(self, pod: Obj) -> tuple[NodeInfo | None, Counter[str]]:
        if self.scoring == "MostAllocated":
            return self._fullest_node(pod)
        requests = pod_requests(pod)
        reasons: Counter[str] = Counter()
        count = len(self._order)
        for step in range(count):
            name = self._order[(self._cursor + step) % count]
            node = self._nodes[name]
            reason = fit_failure(pod, node, requests)
            if reason is None:
                self._cursor = (self._cursor + step + 1) % count
                return node, reasons
            reasons[reason] += 1
        return None, reasons

    def _fullest_node(self, pod: Obj) -> tuple[NodeInfo | None, Counter[str]]:
        """MostAllocated: the fitting node whose requested resources are the most used
        (mean share over the resources the pod asks for); the first on ties."""
        requests = pod_requests(pod)
        asked = [r for r, v in requests.items() if v and r != "pods"]
        reasons: Counter[str] = Counter()
        best: NodeInfo | None = None
        best_score = -1.0
        for name in self._order:
            node = self._nodes[name]
            reason = fit_failure(pod, node, requests)
            if reason is not None:
                reasons[reason] += 1
                continue
            shares = [node.requested[r] / node.allocatable[r] for r in asked]
            score = sum(shares) / len(shares) if shares else 0.0
            if score > best_score:
                best, best_score = node, score
        return best, reasons

    def _preempt_for(self, pod: Obj) -> NodeInfo | None:
        """Remove the fewest lower-priority pods that let `pod` fit; their node."""
        mine = priority_of(pod, self.priority_classes)
        if not any(p < mine and n > 0 for p, n in self._priorities.items()):
            return None
        running: dict[str, list[Obj]] = {}
        for key, (node_name, _, _) in self._bound.items():
            if self._bound_priority.get(key, 0) < mine:
                victim = self._store.find(kinds.PODS, *key)
                if victim is not None:
                    running.setdefault(node_name, []).append(victim)
        candidates = [
            found
            for name, pods in running.items()
            if name in self._nodes
            and (found := victims_on(pod, self._nodes[name], pods, self.priority_classes))
        ]
        chosen = best_victims(candidates, self.priority_classes)
        if chosen is None:
            return None
        self._evict(chosen, pod)
        return self._nodes[chosen.node]

    def _evict(self, victims: Victims, preemptor: Obj) -> None:
        message = f"Preempted by pod {preemptor['metadata'].get('uid', '')} on node {victims.node}"
        for victim in victims.pods:
            status = with_condition(
                victim.get("status") or {},
                "DisruptionTarget",
                True,
                "PreemptionByScheduler",
                message,
            )
            self._store.update(kinds.PODS, {**victim, "status": status}, expected_version=None)
            self._store.remove(kinds.PODS, *_key(victim))

    def _bind(self, pod: Obj, node: NodeInfo) -> None:
        key = _key(pod)
        self._pending.pop(key, None)
        self._reserve(key, pod, node.name)
        status = with_condition(pod.get("status") or {}, "PodScheduled", True)
        bound = {**pod, "spec": {**pod["spec"], "nodeName": node.name}, "status": status}
        self._store.update(kinds.PODS, bound, expected_version=None)

    def _mark_unschedulable(self, pod: Obj, message: str) -> None:
        current = condition(pod.get("status") or {}, "PodScheduled")
        if (
            current
            and current.get("reason") == "Unschedulable"
            and current.get("message") == message
        ):
            return
        status = with_condition(
            pod.get("status") or {}, "PodScheduled", False, "Unschedulable", message
        )
        self._store.update(kinds.PODS, {**pod, "status": status}, expected_version=None)


def _equivalence(pod: Obj) -> str:
    spec = pod.get("spec") or {}
    signature: dict[str, Any] = {
        "requests": sorted(pod_requests(pod).items()),
        "selector": spec.get("nodeSelector"),
        "tolerations": spec.get("tolerations"),
        "ports": sorted(pod_host_ports(pod)),
        # a higher priority may preempt where its twin of lower priority could not
        "priority": [spec.get("priorityClassName"), spec.get("priority")],
    }
    return json.dumps(signature, sort_keys=True)
