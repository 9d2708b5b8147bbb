"""The scheduler, the kubelet and the node lifecycle model, seen through the store.

Pods fit nodes by their GPU requests (or wait Unschedulable with kube-scheduler's
message), become Running and Ready with a loopback pod IP, crash and get evicted on
request, and a lost node fails and then removes its pods as the node lifecycle
controller and taint manager would. A container whose Secret is missing waits with
`CreateContainerConfigError` and starts once the Secret appears. Owner references take
dependents along, and a dependent born to an absent owner is collected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubesim import kinds
from kubesim.cluster import Cluster, ClusterConfig, NodeShape
from kubesim.kubelet import KubeletConfig
from kubesim.store import Obj
from tests.waiting import eventually

NS = "default"


def gpu_pod(name: str, gpus: int = 1, **spec: Any) -> Obj:
    container = {
        "name": "c",
        "image": "img:1",
        "resources": {"limits": {"nvidia.com/gpu": str(gpus)}},
    }
    return {"metadata": {"name": name}, "spec": {"containers": [container], **spec}}


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    sim = Cluster(
        ClusterConfig(
            nodes=2, node_shape=NodeShape(gpus=1), kubelet=KubeletConfig(ready_delay_s=0.01)
        )
    )
    await sim.start()
    yield sim
    await sim.close()


def pod(cluster: Cluster, name: str) -> Obj | None:
    return cluster.store.find(kinds.PODS, NS, name)


def condition(obj: Obj | None, kind: str) -> Obj:
    assert obj is not None
    return next(c for c in obj["status"].get("conditions", []) if c["type"] == kind)


def phase(cluster: Cluster, name: str) -> str | None:
    obj = pod(cluster, name)
    return None if obj is None else obj["status"].get("phase")


async def test_pods_fill_the_gpus_and_the_rest_wait_unschedulable(cluster: Cluster) -> None:
    for name in ("a", "b", "c"):
        cluster.registry.create(kinds.PODS, NS, gpu_pod(name))
    await eventually(lambda: phase(cluster, "a") == phase(cluster, "b") == "Running")
    await eventually(lambda: "conditions" in (pod(cluster, "c") or {}).get("status", {}))
    waiting = condition(pod(cluster, "c"), "PodScheduled")
    assert (waiting["status"], waiting["reason"]) == ("False", "Unschedulable")
    assert waiting["message"] == "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
    assert {pod(cluster, n)["spec"]["nodeName"] for n in "ab"} == {  # type: ignore[index]
        "gpu-node-0001",
        "gpu-node-0002",
    }


async def test_a_pending_pod_is_scheduled_when_capacity_appears(cluster: Cluster) -> None:
    for name in ("a", "b", "c"):
        cluster.registry.create(kinds.PODS, NS, gpu_pod(name))
    await eventually(lambda: phase(cluster, "a") == phase(cluster, "b") == "Running")
    await eventually(lambda: "conditions" in (pod(cluster, "c") or {}).get("status", {}))
    assert phase(cluster, "c") == "Pending"
    freed = pod(cluster, "a")["spec"]["nodeName"]  # type: ignore[index]
    cluster.registry.delete(kinds.PODS, NS, "a", {"gracePeriodSeconds": 0})
    await eventually(lambda: phase(cluster, "c") == "Running")
    assert pod(cluster, "c")["spec"]["nodeName"] == freed  # type: ignore[index]

    cluster.registry.create(kinds.PODS, NS, gpu_pod("d"))
    await eventually(lambda: "conditions" in (pod(cluster, "d") or {}).get("status", {}))
    assert phase(cluster, "d") == "Pending"
    cluster.add_nodes(1)
    await eventually(lambda: phase(cluster, "d") == "Running")
    assert pod(cluster, "d")["spec"]["nodeName"] == "gpu-node-0003"  # type: ignore[index]


async def test_node_selectors_and_taints_are_honoured(cluster: Cluster) -> None:
    cluster.add_nodes(
        1,
        NodeShape(gpus=4, labels={"gpu": "l40s"}),
        taints=[{"key": "dedicated", "value": "render", "effect": "NoSchedule"}],
    )
    cluster.registry.create(kinds.PODS, NS, gpu_pod("picky", nodeSelector={"gpu": "l40s"}))
    await eventually(lambda: "conditions" in (pod(cluster, "picky") or {}).get("status", {}))
    assert "untolerated taint" in condition(pod(cluster, "picky"), "PodScheduled")["message"]
    cluster.registry.create(
        kinds.PODS,
        NS,
        gpu_pod(
            "tolerant",
            nodeSelector={"gpu": "l40s"},
            tolerations=[
                {"key": "dedicated", "operator": "Equal", "value": "render", "effect": "NoSchedule"}
            ],
        ),
    )
    await eventually(lambda: phase(cluster, "tolerant") == "Running")
    assert pod(cluster, "tolerant")["spec"]["nodeName"] == "gpu-node-0003"  # type: ignore[index]


async def test_a_running_pod_has_a_loopback_ip_in_its_nodes_pod_cidr(cluster: Cluster) -> None:
    cluster.registry.create(kinds.PODS, NS, gpu_pod("a"))
    await eventually(
        lambda: (
            condition(pod(cluster, "a"), "Ready")["status"] == "True"
            if (pod(cluster, "a") or {}).get("status", {}).get("conditions")
            else False
        )
    )
    obj = pod(cluster, "a")
    assert obj is not None
    node = cluster.store.get(kinds.NODES, "", obj["spec"]["nodeName"])
    cidr_prefix = node["spec"]["podCIDR"].rsplit(".", 1)[0] + "."
    assert obj["status"]["podIP"].startswith(cidr_prefix)
    assert obj["status"]["podIP"].startswith("127.")


async def test_a_crash_fails_a_never_restart_pod_and_restarts_an_always_pod(
    cluster: Cluster,
) -> None:
    cluster.registry.create(kinds.PODS, NS, gpu_pod("once", restartPolicy="Never"))
    cluster.registry.create(kinds.PODS, NS, gpu_pod("again"))
    await eventually(lambda: phase(cluster, "once") == phase(cluster, "again") == "Running")
    cluster.crash_container(NS, "once", exit_code=137)
    cluster.crash_container(NS, "again", exit_code=1)
    await eventually(lambda: phase(cluster, "once") == "Failed")
    terminated = pod(cluster, "once")["status"]["containerStatuses"][0]["state"]  # type: ignore[index]
    assert terminated["terminated"]["exitCode"] == 137
    await eventually(
        lambda: (pod(cluster, "again") or {})["status"]["containerStatuses"][0]["restartCount"] == 1
    )


async def test_a_kubelet_eviction_leaves_a_failed_evicted_pod(cluster: Cluster) -> None:
    cluster.registry.create(kinds.PODS, NS, gpu_pod("a"))
    await eventually(lambda: phase(cluster, "a") == "Running")
    cluster.evict_pod(NS, "a", "The node was low on resource: memory.")
    await eventually(lambda: phase(cluster, "a") == "Failed")
    status = pod(cluster, "a")["status"]  # type: ignore[index]
    assert (status["reason"], status["message"]) == (
        "Evicted",
        "The node was low on resource: memory.",
    )
    assert condition(pod(cluster, "a"), "DisruptionTarget")["reason"] == "TerminationByKubelet"


async def test_a_lost_node_marks_its_pods_node_lost_then_the_taint_manager_removes_them(
    cluster: Cluster,
) -> None:
    tolerate = [
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 1,
        }
    ]
    cluster.registry.create(kinds.PODS, NS, gpu_pod("a", tolerations=tolerate))
    await eventually(lambda: phase(cluster, "a") == "Running")
    node_name = pod(cluster, "a")["spec"]["nodeName"]  # type: ignore[index]
    await cluster.lose_node(node_name)
    lost = pod(cluster, "a")
    assert lost is not None
    assert lost["status"]["reason"] == "NodeLost"
    assert condition(lost, "Ready")["status"] == "False"
    node = cluster.store.get(kinds.NODES, "", node_name)
    assert {t["key"] for t in node["spec"]["taints"]} == {"node.kubernetes.io/unreachable"}
    assert condition(node, "Ready")["status"] == "Unknown"
    await eventually(lambda: pod(cluster, "a") is None)


async def test_deleting_a_node_garbage_collects_its_pods(cluster: Cluster) -> None:
    cluster.registry.create(kinds.PODS, NS, gpu_pod("a"))
    await eventually(lambda: phase(cluster, "a") == "Running")
    node = pod(cluster, "a")["spec"]["nodeName"]  # type: ignore[index]
    cluster.registry.delete(kinds.NODES, "", node)
    await eventually(lambda: pod(cluster, "a") is None)
    assert cluster.store.find(kinds.NODES, "", node) is None


async def test_owner_references_take_dependents_with_their_owner(cluster: Cluster) -> None:
    owner = cluster.registry.create(kinds.PODS, NS, gpu_pod("owner"))
    ref = {"apiVersion": "v1", "kind": "Pod", "name": "owner", "uid": owner["metadata"]["uid"]}
    cluster.registry.create(
        kinds.SECRETS,
        NS,
        {"metadata": {"name": "key", "ownerReferences": [ref]}, "stringData": {"key": "k"}},
    )
    assert cluster.store.find(kinds.SECRETS, NS, "key") is not None
    cluster.registry.delete(kinds.PODS, NS, "owner", {"gracePeriodSeconds": 0})
    await eventually(lambda: cluster.store.find(kinds.SECRETS, NS, "key") is None)
    assert pod(cluster, "owner") is None


async def test_a_container_waits_for_its_secret_and_starts_once_the_secret_appears(
    cluster: Cluster,
) -> None:
    spec = gpu_pod("a")
    spec["spec"]["containers"][0]["env"] = [
        {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "a-key", "key": "key"}}}
    ]
    cluster.registry.create(kinds.PODS, NS, spec)

    def waiting_reason() -> str | None:
        statuses = (pod(cluster, "a") or {}).get("status", {}).get("containerStatuses") or [{}]
        return (statuses[0].get("state", {}).get("waiting") or {}).get("reason")

    await eventually(lambda: waiting_reason() == "CreateContainerConfigError", 10, "the wait")
    await asyncio.sleep(0.1)  # well past ready_delay_s: still not started
    assert phase(cluster, "a") == "Pending"
    cluster.registry.create(
        kinds.SECRETS, NS, {"metadata": {"name": "a-key"}, "stringData": {"key": "k"}}
    )
    await eventually(
        lambda: condition(pod(cluster, "a"), "Ready")["status"] == "True", 10, "ready once keyed"
    )
    assert phase(cluster, "a") == "Running"


async def test_a_dependent_created_after_its_owner_was_deleted_is_collected(
    cluster: Cluster,
) -> None:
    owner = cluster.registry.create(kinds.PODS, NS, gpu_pod("owner"))
    ref = {"apiVersion": "v1", "kind": "Pod", "name": "owner", "uid": owner["metadata"]["uid"]}
    cluster.registry.delete(kinds.PODS, NS, "owner", {"gracePeriodSeconds": 0})
    await eventually(lambda: pod(cluster, "owner") is None, 10, "the owner deleted")
    cluster.registry.create(
        kinds.SECRETS,
        NS,
        {"metadata": {"name": "late", "ownerReferences": [ref]}, "stringData": {"key": "k"}},
    )
    cluster.registry.create(kinds.SECRETS, NS, {"metadata": {"name": "free"}})
    await eventually(
        lambda: cluster.store.find(kinds.SECRETS, NS, "late") is None, 10, "the late dependent"
    )
    assert cluster.store.find(kinds.SECRETS, NS, "free") is not None


async def test_host_network_pods_cannot_share_a_port_on_one_node() -> None:
    sim = Cluster(ClusterConfig(nodes=1, node_shape=NodeShape(gpus=4)))
    await sim.start()
    try:
        for name in ("a", "b"):
            spec = gpu_pod(name, hostNetwork=True)
            spec["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
            sim.registry.create(kinds.PODS, NS, spec)
        await eventually(lambda: phase(sim, "a") == "Running")
        await eventually(lambda: "conditions" in (pod(sim, "b") or {}).get("status", {}))
        assert "free ports" in condition(pod(sim, "b"), "PodScheduled")["message"]
        assert pod(sim, "a")["status"]["podIP"] == pod(sim, "a")["status"]["hostIP"]  # type: ignore[index]
    finally:
        await sim.close()
