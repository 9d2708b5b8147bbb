"""Node drains over the API, with the official client as `kubectl drain` uses it: a
PodDisruptionBudget (policy/v1) is created and read back; the Eviction subresource
refuses, with 429 and the API server's message, an eviction that would leave fewer
healthy pods than its integer `minAvailable`, and allows one of a pod no budget
selects; cordoned nodes are one field selector away (`spec.unschedulable=true`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kubesim.harness import NAMESPACE, cluster, simulated
from tests.waiting import eventually


def pod(name: str, state: str) -> dict[str, Any]:
    container = {
        "name": "streamer",
        "image": "ghcr.io/ixstream/streamer:0.1.0",
        "resources": {"limits": {"nvidia.com/gpu": "1"}},
    }
    return {
        "metadata": {"name": name, "labels": {"ixstream.io/state": state}},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]},
    }


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[client.ApiClient]:
    async with simulated(cluster(nodes=2, gpus=2), tmp_path, enforce_role=False) as sim:
        api_client = await config.new_client_from_config(config_file=str(sim.kubeconfig))
        async with api_client:
            yield api_client


async def _ready(core: client.CoreV1Api, name: str) -> bool:
    found = await core.read_namespaced_pod(name, NAMESPACE)
    return any(c.type == "Ready" and c.status == "True" for c in found.status.conditions or [])


async def test_an_eviction_a_budget_forbids_is_429_and_one_it_does_not_select_goes(
    api: client.ApiClient,
) -> None:
    core, policy = client.CoreV1Api(api), client.PolicyV1Api(api)
    await core.create_namespaced_pod(NAMESPACE, pod("in-session", "bound"))
    await core.create_namespaced_pod(NAMESPACE, pod("warm", "warm"))
    budget = {
        "metadata": {"name": "in-session"},
        "spec": {
            "minAvailable": 32,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
            "selector": {"matchLabels": {"ixstream.io/state": "bound"}},
        },
    }
    await policy.create_namespaced_pod_disruption_budget(NAMESPACE, budget)
    read = await policy.read_namespaced_pod_disruption_budget("in-session", NAMESPACE)
    assert read.spec.min_available == 32
    await eventually(lambda: _ready(core, "in-session"))
    await eventually(lambda: _ready(core, "warm"))

    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "in-session"}}
    with pytest.raises(ApiException) as refused:
        await core.create_namespaced_pod_eviction("in-session", NAMESPACE, eviction)
    assert refused.value.status == 429
    body = json.loads(refused.value.body)
    assert body["reason"] == "TooManyRequests"
    assert "disruption budget" in body["message"]
    assert await _ready(core, "in-session")  # untouched

    warm = {**eviction, "metadata": {"name": "warm"}}
    await core.create_namespaced_pod_eviction("warm", NAMESPACE, warm)
    await eventually(lambda: _gone(core, "warm"))


async def _gone(core: client.CoreV1Api, name: str) -> bool:
    try:
        await core.read_namespaced_pod(name, NAMESPACE)
    except ApiException as exc:
        return exc.status == 404
    return False


async def test_cordoned_nodes_are_selected_by_spec_unschedulable(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    nodes = (await core.list_node()).items
    await core.patch_node(nodes[0].metadata.name, {"spec": {"unschedulable": True}})
    cordoned = await core.list_node(field_selector="spec.unschedulable=true")
    assert [n.metadata.name for n in cordoned.items] == [nodes[0].metadata.name]
    schedulable = await core.list_node(field_selector="spec.unschedulable=false")
    assert [n.metadata.name for n in schedulable.items] == [nodes[1].metadata.name]
