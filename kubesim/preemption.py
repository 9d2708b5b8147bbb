"""Preemption: which lower-priority pods to remove so a pending pod fits a node.

kube-scheduler's DefaultPreemption plugin, reduced to what headroom placeholders need
(scheduling-eviction/pod-priority-preemption.md): when no node fits a pod, look on each
node for pods of lower priority whose removal would make it fit, lowest priority first
(and, among equals, the youngest first), and choose the node that needs the fewest
victims (then the lowest highest-victim priority, then the node's order). The victims
get a `DisruptionTarget` condition with reason `PreemptionByScheduler` and are deleted.

A pod's priority is `spec.priority`, which the Priority admission plugin resolves from
its `priorityClassName` (`priority_of`); a pod with neither has priority 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kubesim.fit import NodeInfo, fit_failure, pod_requests

Obj = dict[str, Any]


def priority_of(pod: Obj, classes: Mapping[str, int]) -> int:
    """The pod's priority: its PriorityClass's value, else `spec.priority`, else 0.
    (The simulator's admission defaults `spec.priority` to 0 without seeing classes,
    so a known class wins, as the Priority admission plugin would have set it.)"""
    spec = pod.get("spec") or {}
    name = spec.get("priorityClassName") or ""
    if name in classes:
        return classes[name]
    priority = spec.get("priority")
    return priority if isinstance(priority, int) else 0


@dataclass(frozen=True, slots=True)
class Victims:
    node: str
    pods: tuple[Obj, ...]


def victims_on(
    pod: Obj, node: NodeInfo, running: Sequence[Obj], classes: Mapping[str, int]
) -> Victims | None:
    """The fewest lower-priority pods on `node` to remove for `pod` to fit, or None."""
    mine = priority_of(pod, classes)
    lower = sorted(
        (p for p in running if priority_of(p, classes) < mine),
        key=lambda p: (priority_of(p, classes), _age_key(p)),
    )
    requests = pod_requests(pod)
    freed: Counter[str] = Counter()
    chosen: list[Obj] = []
    for victim in lower:
        chosen.append(victim)
        freed.update(pod_requests(victim))
        trial = replace(node, requested=node.requested - freed)
        if fit_failure(pod, trial, requests) is None:
            return Victims(node.name, tuple(chosen))
    return None


def best_victims(candidates: Sequence[Victims], classes: Mapping[str, int]) -> Victims | None:
    """Fewest victims, then the lowest top priority among them (the first on ties)."""
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda v: (len(v.pods), max(priority_of(p, classes) for p in v.pods)),
    )


def _age_key(pod: Obj) -> str:
    # Youngest first among equals: reversed creation time, as a sortable string.
    created = pod["metadata"].get("creationTimestamp") or ""
    return "".join(chr(0x10FFFF - ord(c)) for c in created)
