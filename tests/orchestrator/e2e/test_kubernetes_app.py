"""The orchestrator app with `backend=kubernetes`, driven over its HTTP API against the
simulated cluster, as a deployment runs it.

Where a session needs a streamer, the simulator's kubelet runs the real streamer image
(`python -m ixstream stream`) behind the pod; where only scheduling and pod state
matter, pods are simulated. A session created over the API becomes ready with a WHEP
URL, and deleting it removes its pod; a session whose pod waits for a GPU reads
`pending`; and a replica leaves pods bound to sessions it does not know alone until
their mirrored state says the session is over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from kubesim.serve import RunningSimulator, running_simulator
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.manifests import profile_hash
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.identity import Role
from orchestrator.sessions.states import SessionState
from tests.kubesim.harness import (
    NAMESPACE,
    PROFILE,
    admin,
    cluster,
    opened,
    shipped_grant,
    simulated,
)
from tests.kubesim.harness import settings as simulated_pod_settings
from tests.orchestrator.backends.kubernetes.test_contract import (
    backend_settings,
    running_streamers_cluster,
)
from tests.orchestrator.conftest import Harness, auth, running_app, settings_for
from tests.waiting import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[RunningSimulator]:
    """Two GPU nodes whose kubelet runs real streamers; only the shipped Role allowed."""
    async with running_simulator(
        running_streamers_cluster(tmp_path / "kubelet"),
        tmp_path / "kubeconfig",
        grant=shipped_grant(),
    ) as sim:
        yield sim


def kubernetes_app(
    tmp_path: Path, kubernetes: KubernetesSettings, **overrides: Any
) -> AbstractAsyncContextManager[Harness]:
    settings = settings_for(
        tmp_path / "state", backend="kubernetes", kubernetes=kubernetes, **overrides
    )
    return running_app(settings)


def backend_of(app: Harness) -> KubernetesBackend:
    backend = app.app.state.ctx.backend
    assert isinstance(backend, KubernetesBackend)
    return backend


async def test_a_session_on_kubernetes_becomes_ready_with_a_whep_url_and_its_pod_goes_on_delete(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    kube = backend_settings(simulator, pool_buffer=0)
    async with kubernetes_app(tmp_path, kube) as app:
        created = await app.client.post("/v1/sessions", json={}, headers=auth())
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]

        await eventually(
            lambda: app.service.get_any(session_id).state is SessionState.READY,
            what="the session is ready",
        )
        await eventually(
            lambda: app.service.get_any(session_id).measured_fps is not None,
            what="two status polls measured the frame rate",
        )
        body = (await app.client.get(f"/v1/sessions/{session_id}", headers=auth())).json()
        assert body["state"] == "ready"
        assert body["start"] == "cold"
        assert body["frames_sent"] == 0  # nobody watches yet: frames go to viewers only
        assert body["measured_fps"] == 0.0
        assert body["whep_url"] == f"http://orch.test/v1/sessions/{session_id}/whep"
        assert body["token"]
        backend = backend_of(app)
        pod = app.service.get_any(session_id).streamer
        assert pod is not None
        annotations = backend.pods()[pod.id]["metadata"]["annotations"]
        assert annotations["ixstream.io/session-state"] == "ready"
        observation = await backend.observe(pod.id)
        assert observation.status is not None
        assert observation.status.ready

        deleted = await app.client.delete(f"/v1/sessions/{session_id}", headers=auth())
        assert deleted.status_code == 202
        await eventually(
            lambda: app.service.get_any(session_id).state is SessionState.ENDED,
            what="the session ended",
        )
        assert pod.id not in backend.pods()
    assert simulator.cluster.kubelet.container_pids() == []


async def test_a_session_claims_a_warm_pod_the_cluster_wide_fleet_keeps(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    kube = backend_settings(simulator, pool_buffer=1, pool_interval_s=0.2)
    async with kubernetes_app(tmp_path, kube, pool_size=0) as app:
        backend = backend_of(app)
        wanted = profile_hash(app.service.pool.profile)
        await eventually(
            lambda: len(backend.warm_ready(wanted)) == 1, what="the fleet has a ready warm pod"
        )
        pool = await app.client.get("/v1/pool", headers=auth("ops", Role.OPERATOR))
        assert (pool.json()["desired"], pool.json()["ready"]) == (1, 1)
        created = await app.client.post("/v1/sessions", json={}, headers=auth())
        assert created.status_code == 201, created.text
        assert created.json()["state"] == "ready"
        assert created.json()["start"] == "warm"
        await app.client.delete(f"/v1/sessions/{created.json()['id']}", headers=auth())


async def test_a_session_waiting_for_a_gpu_reads_pending_with_the_schedulers_reason(
    tmp_path: Path,
) -> None:
    async with simulated(cluster(1, gpus=0), tmp_path) as sim:
        kube = simulated_pod_settings(sim, pool_buffer=0)
        async with kubernetes_app(tmp_path, kube) as app:
            created = await app.client.post("/v1/sessions", json={}, headers=auth())
            session_id = created.json()["id"]
            await eventually(
                lambda: app.service.waiting_for_node(app.service.get_any(session_id)) is not None,
                timeout_s=10,
                what="the scheduler reports the pod unschedulable",
            )
            body = (await app.client.get(f"/v1/sessions/{session_id}", headers=auth())).json()
            assert body["state"] == "pending"
            assert body["detail"].startswith("waiting for a node:")
            listed = await app.client.get("/v1/sessions?state=pending", headers=auth())
            assert [item["id"] for item in listed.json()["items"]] == [session_id]
            ended = await app.client.delete(f"/v1/sessions/{session_id}", headers=auth())
            assert ended.status_code == 202


async def test_a_replica_reaps_another_replicas_pod_only_once_its_session_is_over(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(1, gpus=2), tmp_path) as sim,
        opened(sim, replica_id="other-replica") as other,
    ):
        streamer = await other.spawn(PROFILE, "s-elsewhere")
        await other.wait_ready(streamer.id, 10)
        await other.annotate_session(streamer.id, "ready", None)
        kube = simulated_pod_settings(sim, pool_buffer=0)
        # Started after the pod exists, so its restart recovery meets the pod too.
        async with kubernetes_app(tmp_path, kube, reconcile_interval_s=0.05) as app:
            await eventually(lambda: streamer.id in backend_of(app).pods(), 30, "pod seen")
            for _ in range(4):  # four reaper rounds of this replica
                await app.service.reap_orphans()
            assert streamer.id in backend_of(app).pods()
            operator = auth("ops", Role.OPERATOR)
            listed = (await app.client.get("/v1/sessions", headers=operator)).json()
            assert listed["count"] == 0

            await other.annotate_session(streamer.id, "ended", "deleted")
            await eventually(
                lambda: streamer.id not in backend_of(app).pods(),
                timeout_s=15,
                what="the ended session's pod is reaped",
            )


@pytest.mark.parametrize(
    ("fault", "reason", "words"),
    [
        ("lose-node", "node_lost", "lost its node"),
        ("evict", "evicted", "ephemeral-storage"),
    ],
)
async def test_a_session_whose_pod_loses_its_node_or_is_evicted_fails_with_that_reason(
    tmp_path: Path, fault: str, reason: str, words: str
) -> None:
    # Simulated pods answer no status: polls that fail must not end the session first.
    async with simulated(cluster(1, gpus=1), tmp_path) as sim:
        kube = simulated_pod_settings(sim, pool_buffer=0)
        async with kubernetes_app(tmp_path, kube, unresponsive_after=1000) as app:
            created = await app.client.post("/v1/sessions", json={}, headers=auth())
            session_id = created.json()["id"]
            await eventually(
                lambda: app.service.get_any(session_id).state is SessionState.READY,
                timeout_s=10,
                what="the session is ready",
            )
            streamer = app.service.get_any(session_id).streamer
            assert streamer is not None
            if fault == "lose-node":
                node = backend_of(app).pods()[streamer.id]["spec"]["nodeName"]
                await admin(sim, f"nodes/{node}/lose")
            else:
                await admin(
                    sim,
                    f"namespaces/{NAMESPACE}/pods/{streamer.id}/evict",
                    {"message": "The node was low on resource: ephemeral-storage."},
                )
            await eventually(
                lambda: app.service.get_any(session_id).state is SessionState.FAILED,
                timeout_s=10,
                what="the session failed",
            )
            body = (await app.client.get(f"/v1/sessions/{session_id}", headers=auth())).json()
            assert body["reason"] == reason
            assert words in body["detail"]
            await eventually(
                lambda: streamer.id not in backend_of(app).pods(),
                timeout_s=15,
                what="the failed session's pod is removed",
            )
