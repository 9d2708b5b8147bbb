"""What the cluster autoscaler relies on in the simulator's scheduler: `MostAllocated`
scoring packs pods onto the fullest node (the default spreads them); a cordoned node
(`spec.unschedulable`) takes no new pod; a pod that fits nowhere preempts pods of lower
priority (headroom placeholders), lowest first and as few as it needs, and the victims
say why they went."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kubesim import kinds
from kubesim.cluster import Cluster, ClusterConfig, NodeShape
from kubesim.kubelet import KubeletConfig
from kubesim.scheduler import Scoring
from kubesim.store import Obj
from tests.waiting import eventually

NS = "default"
CLASSES = {"ixstream-placeholder": -10}


def gpu_pod(name: str, **spec: Any) -> Obj:
    container = {"name": "c", "image": "img:1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}
    return {"metadata": {"name": name}, "spec": {"containers": [container], **spec}}


def started(scoring: Scoring, nodes: int = 3) -> Callable[[], AsyncIterator[Cluster]]:
    async def fixture() -> AsyncIterator[Cluster]:
        sim = Cluster(
            ClusterConfig(
                nodes=nodes,
                node_shape=NodeShape(gpus=4),
                kubelet=KubeletConfig(ready_delay_s=0.01),
                scoring=scoring,
                priority_classes=CLASSES,
            )
        )
        await sim.start()
        yield sim
        await sim.close()

    return fixture


packing = pytest.fixture(started("MostAllocated"))
spreading = pytest.fixture(started("LeastAllocated"))
small = pytest.fixture(started("LeastAllocated", nodes=1))


def nodes_of(cluster: Cluster) -> Counter[str]:
    return Counter(
        p["spec"].get("nodeName")
        for p in cluster.store.all(kinds.PODS)
        if p["spec"].get("nodeName")
    )


async def test_most_allocated_scoring_fills_one_node_before_the_next(packing: Cluster) -> None:
    for i in range(6):
        packing.registry.create(kinds.PODS, NS, gpu_pod(f"p{i}"))
    await eventually(lambda: sum(nodes_of(packing).values()) == 6)
    assert sorted(nodes_of(packing).values()) == [2, 4]


async def test_the_default_scoring_spreads_pods_over_the_nodes(spreading: Cluster) -> None:
    for i in range(6):
        spreading.registry.create(kinds.PODS, NS, gpu_pod(f"p{i}"))
    await eventually(lambda: sum(nodes_of(spreading).values()) == 6)
    assert sorted(nodes_of(spreading).values()) == [2, 2, 2]


async def test_a_cordoned_node_takes_no_new_pod(packing: Cluster) -> None:
    node = packing.store.get(kinds.NODES, "", "gpu-node-0001")
    packing.store.update(
        kinds.NODES,
        {**node, "spec": {**node["spec"], "unschedulable": True}},
        expected_version=None,
    )
    for i in range(4):
        packing.registry.create(kinds.PODS, NS, gpu_pod(f"p{i}"))
    await eventually(lambda: sum(nodes_of(packing).values()) == 4)
    assert "gpu-node-0001" not in nodes_of(packing)


async def test_a_pod_that_fits_nowhere_preempts_the_fewest_lowest_priority_pods(
    small: Cluster,
) -> None:
    for i in range(3):
        small.registry.create(
            kinds.PODS, NS, gpu_pod(f"hold-{i}", priorityClassName="ixstream-placeholder")
        )
    small.registry.create(kinds.PODS, NS, gpu_pod("session-0"))
    await eventually(lambda: sum(nodes_of(small).values()) == 4)  # the node is full
    seen: list[Obj] = []
    small.store.subscribe(lambda e: seen.append(e.obj) if e.type == "DELETED" else None)

    small.registry.create(kinds.PODS, NS, gpu_pod("session-1"))

    await eventually(lambda: small.store.find(kinds.PODS, NS, "session-1")["spec"].get("nodeName"))
    assert len(seen) == 1  # one GPU needed, one placeholder removed
    victim = seen[0]
    assert victim["metadata"]["name"].startswith("hold-")
    why = next(c for c in victim["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert why["reason"] == "PreemptionByScheduler"
    # A pod of equal priority preempts nothing: it waits.
    small.registry.create(
        kinds.PODS, NS, gpu_pod("hold-late", priorityClassName="ixstream-placeholder")
    )
    small.registry.create(kinds.PODS, NS, gpu_pod("session-2"))
    await eventually(lambda: small.store.find(kinds.PODS, NS, "session-2")["spec"].get("nodeName"))
    await eventually(
        lambda: (
            (small.store.find(kinds.PODS, NS, "hold-late") or {})
            .get("status", {})
            .get("conditions")
        )
    )
    assert not small.store.find(kinds.PODS, NS, "hold-late")["spec"].get("nodeName")
    assert small.store.find(kinds.PODS, NS, "session-0")["spec"]["nodeName"]  # untouched
