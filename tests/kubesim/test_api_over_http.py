"""The simulator speaks the Kubernetes API: the official client (its asyncio port),
loaded from the simulator's kubeconfig, talks to it over HTTP as to a cluster.

Covers what api-concepts.md and api-conventions.md promise and the backend relies on:
generateName, selectors, 409 Conflict on a stale resourceVersion with a `Status` body,
watches that resume from a version and end with 410 when it is too old, strategic
merge patches, graceful deletion, delete-collection, and token authentication.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.watch import Watch

from kubesim.serve import RunningSimulator
from tests.kubesim.harness import NAMESPACE, cluster, simulated
from tests.waiting import eventually

GPU_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"generateName": "streamer-", "labels": {"app": "ixstream", "state": "warm"}},
    "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [
            {
                "name": "streamer",
                "image": "ghcr.io/ixstream/streamer:0.1.0",
                "resources": {"limits": {"nvidia.com/gpu": "1"}},
            }
        ],
    },
}


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[RunningSimulator]:
    async with simulated(
        dataclasses.replace(cluster(nodes=2, gpus=2), history_size=50),
        tmp_path,
        enforce_role=False,  # the API itself, not what the orchestrator may do with it
    ) as running:
        yield running


@pytest.fixture
async def core(sim: RunningSimulator) -> AsyncIterator[client.CoreV1Api]:
    api_client = await config.new_client_from_config(config_file=str(sim.kubeconfig))
    async with api_client:
        yield client.CoreV1Api(api_client)


async def test_generate_name_gives_each_pod_a_unique_name_and_the_api_fills_defaults(
    core: client.CoreV1Api,
) -> None:
    a = await core.create_namespaced_pod(NAMESPACE, GPU_POD)
    b = await core.create_namespaced_pod(NAMESPACE, GPU_POD)
    assert a.metadata.name != b.metadata.name
    assert a.metadata.name.startswith("streamer-")
    assert a.metadata.uid
    assert a.spec.restart_policy == "Always"
    assert a.spec.containers[0].resources.requests == {"nvidia.com/gpu": "1"}
    assert a.status.phase == "Pending"


async def test_a_pod_is_scheduled_and_becomes_ready_on_a_loopback_pod_ip(
    core: client.CoreV1Api,
) -> None:
    created = await core.create_namespaced_pod(NAMESPACE, GPU_POD)

    async def running() -> bool:
        read = await core.read_namespaced_pod(created.metadata.name, NAMESPACE)
        return bool(read.status.phase == "Running")

    await eventually(running, 30, "the pod running", interval_s=0.02)
    pod = await core.read_namespaced_pod(created.metadata.name, NAMESPACE)
    conditions = {c.type: c.status for c in pod.status.conditions}
    assert conditions["PodScheduled"] == conditions["Ready"] == "True"
    assert pod.spec.node_name.startswith("gpu-node-")
    assert pod.status.pod_ip.startswith("127.")
    assert pod.status.container_statuses[0].state.running is not None


async def test_label_selectors_list_only_matching_pods(core: client.CoreV1Api) -> None:
    warm = await core.create_namespaced_pod(NAMESPACE, GPU_POD)
    bound = dict(
        GPU_POD,
        metadata={"generateName": "streamer-", "labels": {"app": "ixstream", "state": "bound"}},
    )
    await core.create_namespaced_pod(NAMESPACE, bound)
    listed = await core.list_namespaced_pod(
        NAMESPACE, label_selector="app=ixstream,state in (warm)"
    )
    assert [p.metadata.name for p in listed.items] == [warm.metadata.name]
    none = await core.list_namespaced_pod(NAMESPACE, label_selector="!app")
    assert none.items == []


async def test_an_update_with_a_stale_resource_version_is_409_conflict_with_a_status(
    core: client.CoreV1Api,
) -> None:
    # A ConfigMap: nothing else writes it between our two patches (a pod's status
    # changes as it is scheduled, which would rightly make even the first patch stale).
    made = await core.create_namespaced_config_map(NAMESPACE, {"metadata": {"name": "claim"}})
    version = made.metadata.resource_version
    claim = {"metadata": {"resourceVersion": version, "labels": {"state": "bound"}}}
    await core.patch_namespaced_config_map(
        "claim", NAMESPACE, claim, _content_type="application/merge-patch+json"
    )
    with pytest.raises(ApiException) as stale:
        await core.patch_namespaced_config_map(
            "claim", NAMESPACE, claim, _content_type="application/merge-patch+json"
        )
    status = json.loads(stale.value.body)
    assert (stale.value.status, status["kind"], status["reason"]) == (409, "Status", "Conflict")
    assert status["details"] == {"name": "claim", "group": "", "kind": "configmaps"}


async def test_a_missing_pod_is_404_not_found(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing:
        await core.read_namespaced_pod("nope", NAMESPACE)
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["reason"] == "NotFound"


async def test_invalid_labels_are_422_invalid(core: client.CoreV1Api) -> None:
    bad = dict(GPU_POD, metadata={"generateName": "streamer-", "labels": {"s": "-bad-"}})
    with pytest.raises(ApiException) as invalid:
        await core.create_namespaced_pod(NAMESPACE, bad)
    assert invalid.value.status == 422
    assert json.loads(invalid.value.body)["reason"] == "Invalid"


async def test_a_strategic_merge_patch_updates_labels_and_a_spec_change_is_refused(
    core: client.CoreV1Api,
) -> None:
    pod = await core.create_namespaced_pod(NAMESPACE, GPU_POD)
    patched = await core.patch_namespaced_pod(
        pod.metadata.name, NAMESPACE, {"metadata": {"labels": {"extra": "1"}}}
    )
    assert patched.metadata.labels["extra"] == "1"
    with pytest.raises(ApiException) as forbidden:
        await core.patch_namespaced_pod(
            pod.metadata.name, NAMESPACE, {"spec": {"restartPolicy": "Never"}}
        )
    assert forbidden.value.status == 422


async def test_a_watch_resumes_after_a_resource_version_and_sees_deletion(
    core: client.CoreV1Api,
) -> None:
    listing = await core.list_namespaced_pod(NAMESPACE)
    created = await core.create_namespaced_pod(NAMESPACE, GPU_POD)
    await core.delete_namespaced_pod(created.metadata.name, NAMESPACE, grace_period_seconds=0)
    seen = []
    async with Watch().stream(
        core.list_namespaced_pod,
        NAMESPACE,
        timeout_seconds=2,
        resource_version=listing.metadata.resource_version,
    ) as stream:
        async for event in stream:
            seen.append(event["type"])
            if event["type"] == "DELETED":
                break
    assert seen[0] == "ADDED"
    assert seen[-1] == "DELETED"


async def test_a_watch_from_a_compacted_version_is_410_gone(
    sim: RunningSimulator, core: client.CoreV1Api
) -> None:
    listing = await core.list_namespaced_pod(NAMESPACE)
    for i in range(60):  # more than the 50 events of history this cluster keeps
        await core.create_namespaced_config_map(NAMESPACE, {"metadata": {"name": f"c{i}"}})
    with pytest.raises(ApiException) as gone:
        await _drain(core, listing.metadata.resource_version)
    assert gone.value.status == 410


async def _drain(core: client.CoreV1Api, resource_version: str) -> None:
    async with Watch().stream(
        core.list_namespaced_pod, NAMESPACE, timeout_seconds=1, resource_version=resource_version
    ) as stream:
        async for _ in stream:
            pass


async def test_graceful_deletion_marks_the_pod_then_the_kubelet_removes_it(
    core: client.CoreV1Api,
) -> None:
    pod = await core.create_namespaced_pod(NAMESPACE, GPU_POD)

    async def scheduled() -> bool:
        read = await core.read_namespaced_pod(pod.metadata.name, NAMESPACE)
        return bool(read.spec.node_name)

    await eventually(scheduled, 30, "the pod scheduled", interval_s=0.02)
    marked = await core.delete_namespaced_pod(pod.metadata.name, NAMESPACE)
    assert marked.metadata.deletion_timestamp is not None
    assert marked.metadata.deletion_grace_period_seconds == 1

    async def removed() -> bool:
        return not (await core.list_namespaced_pod(NAMESPACE)).items

    await eventually(removed, 30, "the kubelet removed the pod", interval_s=0.02)
    assert (await core.list_namespaced_pod(NAMESPACE)).items == []


async def test_delete_collection_removes_what_the_selector_matches(
    core: client.CoreV1Api,
) -> None:
    for _ in range(3):
        await core.create_namespaced_config_map(
            NAMESPACE, {"metadata": {"generateName": "c-", "labels": {"x": "y"}}}
        )
    await core.delete_collection_namespaced_config_map(NAMESPACE, label_selector="x=y")
    assert (await core.list_namespaced_config_map(NAMESPACE)).items == []


async def test_a_request_without_the_token_is_401(sim: RunningSimulator) -> None:
    configuration = client.Configuration(host=sim.url)
    async with client.ApiClient(configuration) as anonymous:
        with pytest.raises(ApiException) as refused:
            await client.CoreV1Api(anonymous).list_namespaced_pod(NAMESPACE)
    assert refused.value.status == 401
