"""What happens to a streamer pod is what its session learns, within seconds.

Node lost, evicted, crashed, never ready: each shows in `observe` (or `wait_ready`)
with its reason, from the watch, and `delete` cleans up (forced for a pod whose node
is gone, since no kubelet will ever confirm). The key Secret goes with its pod; a pod
whose key Secret cannot be created is deleted at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from kubesim import kinds
from kubesim.kubelet import KubeletConfig
from kubesim.serve import RunningSimulator
from orchestrator.backends.base import Observation
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.errors import StreamerStartError
from orchestrator.sessions.states import FailureReason
from tests.kubesim.harness import (
    NAMESPACE,
    PROFILE,
    admin,
    cluster,
    opened,
    shipped_grant,
    simulated,
)
from tests.waiting import eventually

FAILURE = "ixstream_orchestrator_kubernetes_pod_failures_total"


async def _dead_within(backend: KubernetesBackend, streamer_id: str, seconds: float) -> str:
    observations: list[Observation] = []

    async def dead() -> bool:
        observations.append(await backend.observe(streamer_id))
        return not observations[-1].alive

    await eventually(dead, seconds, lambda: f"dead, but still alive: {observations[-1].detail}")
    detail = observations[-1].detail
    assert detail is not None
    return detail


def _secrets(sim: RunningSimulator) -> int:
    return len(sim.cluster.store.list(kinds.SECRETS, NAMESPACE))


async def test_a_lost_node_fails_its_sessions_with_node_lost_and_their_pods_are_removed(
    tmp_path: Path,
) -> None:
    async with simulated(cluster(nodes=2, gpus=1), tmp_path) as sim, opened(sim) as backend:
        a, b = [await backend.spawn(PROFILE, f"s-{i}") for i in range(2)]
        await asyncio.gather(backend.wait_ready(a.id, 10), backend.wait_ready(b.id, 10))
        node = sim.cluster.store.get(kinds.PODS, NAMESPACE, a.id)["spec"]["nodeName"]

        await admin(sim, f"nodes/{node}/lose")
        detail = await _dead_within(backend, a.id, 2.0)
        assert "lost its node" in detail
        assert "is unresponsive" in detail
        assert (await backend.observe(b.id)).alive  # the other node is fine
        assert backend.metrics.value(FAILURE, {"fate": "node_lost"}) == 1

        await backend.delete(a.id)
        assert [s.id for s in await backend.list()] == [b.id]
        assert sim.cluster.store.find(kinds.PODS, NAMESPACE, a.id) is None
        assert _secrets(sim) == 1


async def test_an_unattended_pod_on_a_lost_node_is_evicted_by_the_taint_manager(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=1, gpus=1), tmp_path) as sim,
        opened(sim, node_lost_toleration_s=0) as backend,
    ):
        streamer = await backend.spawn(PROFILE, "s-orphan")
        await backend.wait_ready(streamer.id, 10)
        await admin(sim, "nodes/gpu-node-0001/lose")

        # Nobody deletes it: after tolerationSeconds the cluster removes it by itself,
        # and garbage collection takes its key Secret along.
        async def gone() -> bool:
            return not await backend.list() and _secrets(sim) == 0

        await eventually(gone, 30, "the pod evicted and its key collected")
        assert await backend.list() == []
        assert _secrets(sim) == 0


async def test_an_evicted_pod_fails_its_session_with_the_kubelets_message(
    tmp_path: Path,
) -> None:
    async with simulated(cluster(nodes=1, gpus=1), tmp_path) as sim, opened(sim) as backend:
        streamer = await backend.spawn(PROFILE, "s-evicted")
        await backend.wait_ready(streamer.id, 10)
        await admin(
            sim,
            f"namespaces/{NAMESPACE}/pods/{streamer.id}/evict",
            {"message": "The node was low on resource: ephemeral-storage."},
        )
        detail = await _dead_within(backend, streamer.id, 2.0)
        assert "evicted" in detail
        assert "ephemeral-storage" in detail
        await backend.delete(streamer.id)
        assert await backend.list() == []


async def test_a_crashed_container_fails_its_session_with_the_exit_code(tmp_path: Path) -> None:
    async with simulated(cluster(nodes=1, gpus=1), tmp_path) as sim, opened(sim) as backend:
        streamer = await backend.spawn(PROFILE, "s-crash")
        await backend.wait_ready(streamer.id, 10)
        await admin(sim, f"namespaces/{NAMESPACE}/pods/{streamer.id}/crash", {"exitCode": 139})
        detail = await _dead_within(backend, streamer.id, 2.0)
        assert "exited with code 139 (SIGSEGV)" in detail
        await backend.delete(streamer.id)


async def test_a_pod_not_ready_in_time_fails_with_start_timeout_and_can_be_deleted(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=1, gpus=1, ready_delay_s=60), tmp_path) as sim,
        opened(sim) as backend,
    ):
        streamer = await backend.spawn(PROFILE, "s-slow")
        with pytest.raises(StreamerStartError) as failure:
            await backend.wait_ready(streamer.id, 0.3)
        assert failure.value.reason == FailureReason.START_TIMEOUT
        await backend.delete(streamer.id)
        assert await backend.list() == []
        assert sim.cluster.store.list(kinds.PODS, NAMESPACE) == []


async def test_a_pod_deleted_behind_the_backends_back_is_observed_gone(tmp_path: Path) -> None:
    async with simulated(cluster(nodes=1, gpus=1), tmp_path) as sim, opened(sim) as backend:
        streamer = await backend.spawn(PROFILE, "s-gone")
        await backend.wait_ready(streamer.id, 10)
        sim.cluster.registry.delete(kinds.PODS, NAMESPACE, streamer.id, {"gracePeriodSeconds": 0})
        detail = await _dead_within(backend, streamer.id, 2.0)
        assert "is gone" in detail
        await backend.delete(streamer.id)  # idempotent on a pod that is already gone


async def test_an_image_that_cannot_be_pulled_fails_the_start_with_spawn_failed(
    tmp_path: Path,
) -> None:
    config = dataclasses.replace(
        cluster(nodes=1, gpus=1),
        kubelet=KubeletConfig(unpullable_images=frozenset({"registry.invalid/streamer"})),
    )
    async with (
        simulated(config, tmp_path) as sim,
        opened(sim, image="registry.invalid/streamer:1") as backend,
    ):
        streamer = await backend.spawn(PROFILE, "s-image")
        with pytest.raises(StreamerStartError) as failure:
            await backend.wait_ready(streamer.id, 10)
        assert failure.value.reason == FailureReason.SPAWN_FAILED
        assert "ImagePullBackOff" in failure.value.detail
        await backend.delete(streamer.id)
        assert sim.cluster.store.list(kinds.PODS, NAMESPACE) == []


async def test_a_pod_whose_key_secret_is_refused_is_deleted_and_the_spawn_fails(
    tmp_path: Path,
) -> None:
    shipped = shipped_grant()
    no_secrets = dataclasses.replace(
        shipped, rules=tuple(r for r in shipped.rules if "secrets" not in r["resources"])
    )
    async with (
        simulated(cluster(nodes=1, gpus=1), tmp_path, grant=no_secrets) as sim,
        opened(sim) as backend,
    ):
        with pytest.raises(StreamerStartError) as failure:
            await backend.spawn(PROFILE, "s-keyless")
        assert failure.value.reason == FailureReason.SPAWN_FAILED
        assert "key secret" in failure.value.detail
        assert "cannot create resource" in failure.value.detail
        await eventually(
            lambda: not sim.cluster.store.list(kinds.PODS, NAMESPACE), 10, "the keyless pod deleted"
        )
        assert _secrets(sim) == 0


async def test_a_pods_key_secret_and_service_are_born_owned_by_it_and_go_with_it(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=1, gpus=1), tmp_path) as sim,
        opened(sim, signalling="service") as backend,
    ):
        streamer = await backend.spawn(PROFILE, "s-owned")
        await backend.wait_ready(streamer.id, 10)
        store = sim.cluster.store
        pod_uid = store.get(kinds.PODS, NAMESPACE, streamer.id)["metadata"]["uid"]
        dependents = store.list(kinds.SECRETS, NAMESPACE) + store.list(kinds.SERVICES, NAMESPACE)
        assert {d["metadata"]["ownerReferences"][0]["uid"] for d in dependents} == {pod_uid}
        assert store.get(kinds.SECRETS, NAMESPACE, f"{streamer.id}-key")
        await backend.delete(streamer.id)
        await eventually(
            lambda: (
                not store.list(kinds.SECRETS, NAMESPACE) + store.list(kinds.SERVICES, NAMESPACE)
            ),
            10,
            "the key Secret and the Service collected with their pod",
        )
