"""Node drains on the simulator: a cordoned node gets no new claim, its warm pods are
retired first and replaced on other nodes, the pod that serves a session there is
marked draining and cannot be evicted (the shipped in-session PodDisruptionBudget,
integer `minAvailable`, answers 429), and once the session ends and its pod is deleted
the node holds none of our pods: the drain can complete. A warm pod may be evicted at
any time. The orchestrator reads nodes with exactly the shipped ClusterRole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesim import kinds
from kubesim.errors import TooManyRequests
from kubesim.serve import RunningSimulator
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.drain import DRAINING_ANNOTATION
from orchestrator.backends.kubernetes.fleet import WarmFleet
from tests.kubesim.harness import NAMESPACE, PROFILE, cluster, opened, simulated
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[4]


def _in_session_budget() -> dict[str, Any]:
    docs = yaml.safe_load_all((ROOT / "k8s" / "pdb.yaml").read_text())
    return next(d for d in docs if d["metadata"]["name"] == "ixstream-streamer-in-session")


def _cordon(sim: RunningSimulator, node: str) -> None:
    obj = sim.cluster.store.get(kinds.NODES, "", node)
    cordoned = {**obj, "spec": {**obj["spec"], "unschedulable": True}}
    sim.cluster.store.update(kinds.NODES, cordoned, expected_version=None)


def _ours_on(sim: RunningSimulator, node: str, state: str | None = None) -> list[dict[str, Any]]:
    return [
        p
        for p in sim.cluster.store.list(kinds.PODS, NAMESPACE)
        if p["spec"].get("nodeName") == node
        and p["metadata"]["labels"].get(m.COMPONENT) == "streamer"
        and (state is None or p["metadata"]["labels"].get(m.STATE) == state)
    ]


def _ready_warm_elsewhere(backend: KubernetesBackend, node: str) -> int:
    return sum(
        1
        for name in backend.warm_ready(m.profile_hash(PROFILE))
        if backend.pods()[name]["spec"].get("nodeName") != node
    )


def _annotation(sim: RunningSimulator, pod: str) -> str | None:
    annotations = sim.cluster.store.get(kinds.PODS, NAMESPACE, pod)["metadata"]["annotations"]
    value: str | None = annotations.get(DRAINING_ANNOTATION)
    return value


async def test_a_drained_node_loses_its_warm_pods_first_and_keeps_its_session_until_it_ends(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=2, gpus=4), tmp_path) as sim,
        opened(sim, pool_buffer=2, pool_interval_s=0.05, drain_interval_s=0.05) as backend,
    ):
        sim.cluster.registry.create(kinds.PODDISRUPTIONBUDGETS, NAMESPACE, _in_session_budget())
        fleet = WarmFleet(backend, PROFILE, start_timeout_s=10)
        await fleet.start()
        try:
            await eventually(lambda: fleet.count().ready == 2)
            session = await backend.claim(PROFILE, "s-1")
            assert session is not None
            node = backend.pods()[session.id]["spec"]["nodeName"]
            await eventually(lambda: fleet.count().ready == 2 and fleet.count().bound == 1)

            _cordon(sim, node)

            # Warm pods leave the cordoned node and the buffer is kept on the other one.
            await eventually(lambda: not _ours_on(sim, node, m.WARM))
            await eventually(lambda: _ready_warm_elsewhere(backend, node) == 2)
            assert backend.node_load.draining == {node}
            # The session's pod stays, marked, and its eviction is refused.
            await eventually(lambda: _annotation(sim, session.id) == "true")
            with pytest.raises(TooManyRequests, match="disruption budget"):
                sim.cluster.registry.evict(NAMESPACE, session.id, {})
            # New sessions start elsewhere.
            other = await backend.claim(PROFILE, "s-2")
            assert other is not None
            assert backend.pods()[other.id]["spec"]["nodeName"] != node
            # A warm pod may always be evicted (no budget selects it).
            await eventually(lambda: len(backend.warm_ready(m.profile_hash(PROFILE))) >= 1)
            warm = backend.warm_ready(m.profile_hash(PROFILE))[0]
            sim.cluster.registry.evict(NAMESPACE, warm, {})
            # The session ends: its pod goes, and nothing of ours is left on the node.
            await backend.delete(session.id)
            assert _ours_on(sim, node) == []
        finally:
            await fleet.close()
