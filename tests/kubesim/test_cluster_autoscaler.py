"""The simulator's cluster autoscaler model: GPU pods waiting for a node make it order
enough nodes (which join after the start delay; pods below the expendable cut-off
order none), a node whose pods may all move and use under half its GPUs goes once
unneeded long enough, and a pod that may not move (`safe-to-evict: "false"`, or no
controller) or a PodDisruptionBudget keeps its node. A ReplicaSet model brings back a
placeholder that was removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubesim import kinds
from kubesim.autoscaler import SAFE_TO_EVICT, AutoscalerConfig, ClusterAutoscaler, may_move
from kubesim.cluster import Cluster, ClusterConfig, NodeShape
from kubesim.kubelet import KubeletConfig
from kubesim.replicaset import ReplicaSetModel
from kubesim.store import Obj
from tests.waiting import eventually

NS = "default"


def gpu_pod(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> Obj:
    container = {"name": "c", "image": "img:1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}
    meta: Obj = {"name": name, "annotations": annotations or {}}
    return {"metadata": meta, "spec": {"containers": [container], **spec}}


@pytest.fixture
async def sim() -> AsyncIterator[Cluster]:
    cluster = Cluster(
        ClusterConfig(
            nodes=1,
            node_shape=NodeShape(gpus=2),
            kubelet=KubeletConfig(ready_delay_s=0.01),
            priority_classes={"low": -100},
        )
    )
    await cluster.start()
    yield cluster
    await cluster.close()


def scaler(cluster: Cluster) -> ClusterAutoscaler:
    config = AutoscalerConfig(min_nodes=1, max_nodes=4, node_start_s=1.0, unneeded_s=2.0)
    return ClusterAutoscaler(cluster, config, gpus_per_node=2)


def nodes(cluster: Cluster) -> list[str]:
    return sorted(n["metadata"]["name"] for n in cluster.store.all(kinds.NODES))


def pending(cluster: Cluster, name: str) -> bool:
    pod = cluster.store.find(kinds.PODS, NS, name)
    return pod is not None and any(
        c.get("reason") == "Unschedulable" for c in pod["status"].get("conditions", [])
    )


async def test_waiting_gpu_pods_order_enough_nodes_which_join_after_the_start_delay(
    sim: Cluster,
) -> None:
    autoscaler = scaler(sim)
    for i in range(5):  # two fit; three wait: two more nodes of two GPUs
        sim.registry.create(kinds.PODS, NS, gpu_pod(f"p{i}"))
    sim.registry.create(kinds.PODS, NS, gpu_pod("expendable", priorityClassName="low"))
    await eventually(lambda: pending(sim, "p4") and pending(sim, "expendable"))
    autoscaler.tick(0.0)
    autoscaler.tick(0.5)
    assert len(nodes(sim)) == 1  # ordered, not there yet
    autoscaler.tick(1.0)
    assert len(nodes(sim)) == 3  # and not a third for the expendable pod
    await eventually(
        lambda: all(
            (sim.store.find(kinds.PODS, NS, f"p{i}") or {})["spec"].get("nodeName")
            for i in range(5)
        )
    )
    assert autoscaler.stats.node_seconds == pytest.approx(1.0)  # one node for a second


async def test_an_unneeded_node_goes_but_one_with_a_pod_that_may_not_move_stays(
    sim: Cluster,
) -> None:
    autoscaler = scaler(sim)
    sim.add_nodes(2)
    _, second, third = nodes(sim)
    sim.registry.create(kinds.PODS, NS, gpu_pod("warm", {SAFE_TO_EVICT: "true"}, nodeName=second))
    sim.registry.create(
        kinds.PODS, NS, gpu_pod("session", {SAFE_TO_EVICT: "false"}, nodeName=third)
    )
    for t in (0.0, 1.0, 2.5):
        autoscaler.tick(t)
    # the node with the session stays; of the others, the empty one went (the one with
    # a warm pod uses half its GPUs: not below the threshold)
    assert third in nodes(sim)
    assert len(nodes(sim)) == 2
    assert autoscaler.stats.removed == 1


async def test_a_disruption_budget_keeps_the_node_its_eviction_would_break(
    sim: Cluster,
) -> None:
    config = AutoscalerConfig(min_nodes=0, unneeded_s=2.0, utilization_threshold=0.6)
    autoscaler = ClusterAutoscaler(sim, config, gpus_per_node=2)
    guarded_node, spare = sim.add_nodes(2)
    sim.registry.create(
        kinds.PODS, NS, gpu_pod("guarded", {SAFE_TO_EVICT: "true"}, nodeName=guarded_node)
    )
    budget = {"metadata": {"name": "keep"}, "spec": {"minAvailable": 1, "selector": {}}}
    sim.registry.create(kinds.PODDISRUPTIONBUDGETS, NS, budget)
    await eventually(lambda: _ready(sim, "guarded"))
    autoscaler.tick(0.0)
    autoscaler.tick(3.0)
    # Every node was unneeded and had room elsewhere for its pods; the budget refused
    # the eviction from one of them, and that node alone stays.
    assert nodes(sim) == [guarded_node]
    assert sim.store.find(kinds.PODS, NS, "guarded") is not None
    assert spare not in nodes(sim)


def _ready(sim: Cluster, name: str) -> bool:
    pod = sim.store.find(kinds.PODS, NS, name)
    return pod is not None and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
    )


def test_pods_with_a_controller_may_move_and_bare_ones_only_if_annotated() -> None:
    assert may_move({"metadata": {"ownerReferences": [{"kind": "ReplicaSet"}]}})
    assert not may_move({"metadata": {}})
    assert may_move({"metadata": {"annotations": {SAFE_TO_EVICT: "true"}}})
    owned_but_pinned = {"ownerReferences": [{}], "annotations": {SAFE_TO_EVICT: "false"}}
    assert not may_move({"metadata": owned_but_pinned})


async def test_a_replica_set_brings_a_removed_placeholder_back(sim: Cluster) -> None:
    template = gpu_pod("ignored", priorityClassName="low")
    del template["metadata"]["name"]
    placeholders = ReplicaSetModel(sim.registry, NS, "hold", template, replicas=2)
    placeholders.reconcile()
    names = [p["metadata"]["name"] for p in sim.store.all(kinds.PODS)]
    assert len(names) == 2
    assert all(n.startswith("hold-") for n in names)
    sim.store.remove(kinds.PODS, NS, names[0])
    placeholders.reconcile()
    assert len(list(sim.store.all(kinds.PODS))) == 2
    assert placeholders.recreated == 1
