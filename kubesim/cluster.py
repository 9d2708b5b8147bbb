"""A simulated cluster: the store and the controllers around it, with one owner.

`Cluster` starts the scheduler loop, registers the initial nodes and namespaces, and
offers the operations a test or an operator performs from outside the Kubernetes API
(add nodes, lose one, evict a pod, crash a container). `close()` stops every task it
started and every process its kubelet runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubesim import kinds
from kubesim.errors import NotFound
from kubesim.garbage import GarbageCollector
from kubesim.kubelet import Kubelet, KubeletConfig
from kubesim.nodes import NodeController
from kubesim.registry import Registry
from kubesim.scheduler import Scheduler, Scoring
from kubesim.store import Obj, Store

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True, slots=True)
class NodeShape:
    """What each simulated node offers."""

    gpus: int = 1
    gpu_resource: str = "nvidia.com/gpu"
    cpu: str = "16"
    memory: str = "64Gi"
    max_pods: int = 110
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    nodes: int = 1
    node_shape: NodeShape = field(default_factory=NodeShape)
    namespaces: Sequence[str] = ()
    history_size: int = 100_000
    kubelet: KubeletConfig = field(default_factory=KubeletConfig)
    #: kube-scheduler's NodeResourcesFit scoring: spread (`LeastAllocated`) or pack.
    scoring: Scoring = "LeastAllocated"
    #: The cluster's PriorityClasses (name -> value) for preemption.
    priority_classes: Mapping[str, int] = field(default_factory=dict)


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.store = Store(config.history_size)
        self.kubelet = Kubelet(self.store, config.kubelet)
        self.registry = Registry(self.store, self.kubelet.logs)
        self.scheduler = Scheduler(self.store, config.scoring, config.priority_classes)
        self.nodes = NodeController(self.store, self.kubelet)
        self.gc = GarbageCollector(self.registry)
        self._scheduler_task: asyncio.Task[None] | None = None
        self._node_serial = 0

    async def start(self) -> None:
        for namespace in (*SYSTEM_NAMESPACES, *self.config.namespaces):
            self.ensure_namespace(namespace)
        self.add_nodes(self.config.nodes)
        self._scheduler_task = asyncio.get_running_loop().create_task(
            self.scheduler.run(), name="kubesim:scheduler"
        )

    async def close(self) -> None:
        self.store.close_watchers()
        if self._scheduler_task is not None:
            self._scheduler_task.cancel()
            await asyncio.gather(self._scheduler_task, return_exceptions=True)
        await self.nodes.close()
        await self.gc.close()
        await self.kubelet.close()

    # --- operations from outside the API ------------------------------------------------

    def ensure_namespace(self, name: str) -> None:
        if self.store.find(kinds.NAMESPACES, "", name) is None:
            self.registry.create(kinds.NAMESPACES, "", {"metadata": {"name": name}})

    def add_nodes(
        self, count: int, shape: NodeShape | None = None, taints: Sequence[Obj] = ()
    ) -> list[str]:
        shape = shape or self.config.node_shape
        names = []
        for _ in range(count):
            self._node_serial += 1
            name = f"gpu-node-{self._node_serial:04d}"
            while self.store.find(kinds.NODES, "", name) is not None:
                self._node_serial += 1
                name = f"gpu-node-{self._node_serial:04d}"
            self.nodes.register(
                name,
                gpus=shape.gpus,
                gpu_resource=shape.gpu_resource,
                cpu=shape.cpu,
                memory=shape.memory,
                max_pods=shape.max_pods,
                labels=shape.labels,
                taints=taints,
            )
            names.append(name)
        return names

    async def lose_node(self, name: str, message: str | None = None) -> None:
        await self.nodes.lose(name, message)

    def evict_pod(self, namespace: str, name: str, message: str) -> None:
        """Node-pressure eviction by the kubelet (the pod stays, `Failed`/`Evicted`)."""
        self.store.get(kinds.PODS, namespace, name)
        if not self.kubelet.evict((namespace, name), message):
            raise NotFound(f'pod "{name}" is not running on any node')

    def crash_container(
        self, namespace: str, name: str, exit_code: int = 1, reason: str = "Error"
    ) -> None:
        self.store.get(kinds.PODS, namespace, name)
        if not self.kubelet.crash((namespace, name), exit_code, reason):
            raise NotFound(f'pod "{name}" is not running on any node')

    def summary(self) -> dict[str, Any]:
        phases: dict[str, int] = {}
        for pod in self.store.all(kinds.PODS):
            phase = (pod.get("status") or {}).get("phase", "Unknown")
            phases[phase] = phases.get(phase, 0) + 1
        return {
            "resourceVersion": str(self.store.revision),
            "nodes": self.store.count(kinds.NODES),
            "pods": phases,
            "pendingScheduling": self.scheduler.pending_count,
        }
