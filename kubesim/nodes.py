"""Nodes and what happens when one disappears: the node lifecycle controller, the
taint manager and pod garbage collection, in one small model.

- `register` is what a kubelet does when it joins: a Node with `capacity` and
  `allocatable` (GPUs as an extended resource, as NVIDIA's device plugin advertises
  them), a `podCIDR`, an `InternalIP` and `Ready=True`.
- `lose` is a node that stops answering (power, network, kernel panic). The real
  controller notices after `--node-monitor-grace-period`; here at once: `Ready`
  becomes `Unknown`, the `node.kubernetes.io/unreachable` taints are added, and every
  pod on the node is marked not ready with reason `NodeLost` ("Node X which was running
  pod Y is unresponsive", the controller's own words). After each pod's
  `tolerationSeconds` for that taint the taint manager evicts it: a `DisruptionTarget`
  condition (`DeletionByTaintManager`) and removal. A real pod would hang in
  Terminating until its node came back or was deleted; the model removes it, as pod GC
  does for nodes marked out of service.
- a Node deleted through the API takes its pods with it (pod GC of orphaned pods).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from kubesim import kinds
from kubesim.conditions import with_condition
from kubesim.kubelet import Kubelet
from kubesim.store import Event, Obj, Store, now_rfc3339

UNREACHABLE = "node.kubernetes.io/unreachable"


def node_manifest(
    name: str,
    *,
    host_ip: str,
    pod_cidr: str,
    gpus: int,
    gpu_resource: str = "nvidia.com/gpu",
    cpu: str = "16",
    memory: str = "64Gi",
    max_pods: int = 110,
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Obj] = (),
) -> Obj:
    resources = {"cpu": cpu, "memory": memory, "pods": str(max_pods)}
    if gpus:
        resources[gpu_resource] = str(gpus)
    node_labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        **(labels or {}),
    }
    if gpus:
        node_labels.setdefault("nvidia.com/gpu.present", "true")
    now = now_rfc3339()
    return {
        "metadata": {"name": name, "labels": node_labels},
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr], "taints": list(taints)},
        "status": {
            "capacity": resources,
            "allocatable": dict(resources),
            "addresses": [
                {"type": "InternalIP", "address": host_ip},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name + ".boot")),
                "containerRuntimeVersion": "kubesim://1",
                "kernelVersion": "6.1.0-kubesim",
                "kubeProxyVersion": "v1.33.0-kubesim",
                "kubeletVersion": "v1.33.0-kubesim",
                "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex,
                "operatingSystem": "linux",
                "osImage": "kubesim",
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
            },
        },
    }


def eviction_delay(pod: Obj, taint_key: str) -> float | None:
    """Seconds until the taint manager evicts `pod` for a NoExecute taint `taint_key`:
    0 if no toleration matches, None (never) if one matches without a limit, else the
    smallest `tolerationSeconds` (taint_manager.go's getMinTolerationTime)."""
    matching = [
        t
        for t in (pod.get("spec") or {}).get("tolerations") or []
        if t.get("effect") in (None, "", "NoExecute")
        and (
            (t.get("key") in (None, "") and t.get("operator") == "Exists")
            or t.get("key") == taint_key
        )
    ]
    if not matching:
        return 0.0
    limits = [t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None]
    if len(limits) < len(matching):
        return None
    return float(max(0, min(limits)))


class NodeController:
    def __init__(self, store: Store, kubelet: Kubelet) -> None:
        self._store = store
        self._kubelet = kubelet
        self._tasks: set[asyncio.Task[Any]] = set()
        store.subscribe(self._on_event)

    def register(self, name: str, **kwargs: Any) -> Obj:
        manifest = node_manifest(
            name,
            host_ip=self._kubelet.host_ip(name),
            pod_cidr=self._kubelet.pod_cidr(name),
            **kwargs,
        )
        return self._store.create(kinds.NODES, "", {"apiVersion": "v1", "kind": "Node", **manifest})

    async def lose(self, name: str, message: str | None = None) -> None:
        node = self._store.get(kinds.NODES, "", name)
        await self._kubelet.node_lost(name)
        status = with_condition(node.get("status") or {}, "Ready", False)
        for cond in status["conditions"]:
            if cond["type"] == "Ready":
                cond.update(
                    status="Unknown",
                    reason="NodeStatusUnknown",
                    message=message or "Kubelet stopped posting node status.",
                )
        taints = [
            t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") != UNREACHABLE
        ]
        taints += [
            {"key": UNREACHABLE, "effect": effect, "timeAdded": now_rfc3339()}
            for effect in ("NoSchedule", "NoExecute")
        ]
        node = {**node, "spec": {**node.get("spec", {}), "taints": taints}, "status": status}
        self._store.update(kinds.NODES, node, expected_version=None)
        for pod in self._pods_on(name):
            self._mark_lost(pod, name)
            delay = eviction_delay(pod, UNREACHABLE)
            if delay is not None:
                key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
                self._spawn(self._evict_later(key, pod["metadata"]["uid"], delay))

    def _pods_on(self, node: str) -> list[Obj]:
        return [
            p for p in self._store.all(kinds.PODS) if (p.get("spec") or {}).get("nodeName") == node
        ]

    def _mark_lost(self, pod: Obj, node: str) -> None:
        message = f"Node {node} which was running pod {pod['metadata']['name']} is unresponsive"
        status = dict(pod.get("status") or {})
        if status.get("phase") not in ("Succeeded", "Failed"):
            status.update(reason="NodeLost", message=message)
        status = with_condition(status, "Ready", False, "NodeLost", message)
        status = with_condition(status, "ContainersReady", False, "NodeLost", message)
        self._store.update(kinds.PODS, {**pod, "status": status}, expected_version=None)

    async def _evict_later(self, key: tuple[str, str], uid: str, delay: float) -> None:
        await asyncio.sleep(delay)
        pod = self._store.find(kinds.PODS, *key)
        if pod is None or pod["metadata"]["uid"] != uid:
            return
        status = with_condition(
            pod.get("status") or {},
            "DisruptionTarget",
            True,
            "DeletionByTaintManager",
            f"Taint manager: deleting due to NoExecute taint key in effect: {UNREACHABLE}",
        )
        self._store.update(kinds.PODS, {**pod, "status": status}, expected_version=None)
        self._store.remove(kinds.PODS, *key)

    def _on_event(self, event: Event) -> None:
        if event.kind is kinds.NODES and event.type == "DELETED":
            self._spawn(self._collect_orphans(event.obj["metadata"]["name"]))

    async def _collect_orphans(self, node: str) -> None:
        await self._kubelet.node_lost(node)
        for pod in self._pods_on(node):
            meta = pod["metadata"]
            if self._store.find(kinds.PODS, meta["namespace"], meta["name"]) is not None:
                self._store.remove(kinds.PODS, meta["namespace"], meta["name"])

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
