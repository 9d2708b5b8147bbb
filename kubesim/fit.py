"""Whether a pod fits a node: the scheduler's filter plugins, as pure functions.

Modelled on kube-scheduler's NodeResourcesFit (requests, extended resources such as
`nvidia.com/gpu` included, against allocatable minus what bound pods request),
NodeUnschedulable, NodeAffinity's `nodeSelector` part, TaintToleration and NodePorts
(host ports, which `hostNetwork` pods claim for every container port). Each filter
returns the reason string kube-scheduler would put in its "0/N nodes are available"
message, or None.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubesim.quantity import scheduling_units

Obj = dict[str, Any]


@dataclass(slots=True)
class NodeInfo:
    """A node as the scheduler caches it, with what its bound pods request."""

    name: str
    labels: dict[str, str]
    taints: list[Obj]
    allocatable: dict[str, int]
    ready: bool = True
    unschedulable: bool = False
    requested: Counter[str] = field(default_factory=Counter)
    host_ports: set[int] = field(default_factory=set)

    @classmethod
    def from_node(cls, node: Obj) -> NodeInfo:
        status, spec = node.get("status") or {}, node.get("spec") or {}
        allocatable = status.get("allocatable") or status.get("capacity") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        return cls(
            name=node["metadata"]["name"],
            labels=dict(node["metadata"].get("labels") or {}),
            taints=list(spec.get("taints") or []),
            allocatable={k: scheduling_units(k, v) for k, v in allocatable.items()},
            ready=ready,
            unschedulable=bool(spec.get("unschedulable")),
        )


def pod_requests(pod: Obj) -> Counter[str]:
    """What a pod asks of a node: the sum of its containers' requests, plus one pod."""
    total: Counter[str] = Counter({"pods": 1})
    for container in (pod.get("spec") or {}).get("containers") or []:
        for resource, value in ((container.get("resources") or {}).get("requests") or {}).items():
            total[resource] += scheduling_units(resource, value)
    return total


def pod_host_ports(pod: Obj) -> set[int]:
    spec = pod.get("spec") or {}
    ports: set[int] = set()
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            host = port.get("hostPort") or (
                port.get("containerPort") if spec.get("hostNetwork") else None
            )
            if host:
                ports.add(int(host))
    return ports


def tolerates(tolerations: Iterable[Obj], taint: Obj) -> bool:
    """toleration.go's ToleratesTaint: key (or Exists with no key), value and effect."""
    for tol in tolerations:
        if tol.get("effect") not in (None, "", taint.get("effect")):
            continue
        if tol.get("key") not in (None, "") and tol.get("key") != taint.get("key"):
            continue
        operator = tol.get("operator") or "Equal"
        if operator == "Exists" or tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def fit_failure(pod: Obj, node: NodeInfo, requests: Mapping[str, int]) -> str | None:
    """Why `pod` does not fit `node` (kube-scheduler's wording), or None if it fits."""
    spec = pod.get("spec") or {}
    if not node.ready:
        return "node(s) were not ready"
    if node.unschedulable:
        return "node(s) were unschedulable"
    for key, value in (spec.get("nodeSelector") or {}).items():
        if node.labels.get(key) != value:
            return "node(s) didn't match Pod's node affinity/selector"
    tolerations = spec.get("tolerations") or []
    for taint in node.taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
    for resource, amount in requests.items():
        if amount and node.requested[resource] + amount > node.allocatable.get(resource, 0):
            return "Too many pods" if resource == "pods" else f"Insufficient {resource}"
    if pod_host_ports(pod) & node.host_ports:
        return "node(s) didn't have free ports for the requested pod ports"
    return None


def unschedulable_message(total_nodes: int, reasons: Counter[str]) -> str:
    """kube-scheduler's FailedScheduling message: "0/3 nodes are available: ..."."""
    parts = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    suffix = f" {parts}." if parts else ""
    return f"0/{total_nodes} nodes are available:{suffix}"
