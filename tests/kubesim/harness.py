"""Shared set-up for the Kubernetes backend's tests: a simulated cluster in the test's
event loop and backends that reach it through its kubeconfig, as on a real cluster.

Pods here are *simulated* (Running and Ready after a few milliseconds, no process)
unless a test asks for the streamer image to run; claims, scheduling and failures need
no streamer behind the pod.

The simulator enforces the Role we ship (`k8s/rbac.yaml`, bound to the orchestrator's
service account) unless a test asks otherwise: every backend test thereby shows that
the backend works with exactly those permissions, and a request outside them fails
the test with the API server's 403.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml

from kubesim.cluster import ClusterConfig, NodeShape
from kubesim.kubelet import KubeletConfig
from kubesim.rbac import Grant, grant_from_manifests
from kubesim.serve import RunningSimulator, running_simulator
from orchestrator.backends.base import StreamerProfile
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.settings import KubernetesSettings

PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)
NAMESPACE = "ixstream"
RBAC_MANIFESTS = Path(__file__).resolve().parents[2] / "k8s" / "rbac.yaml"
ORCHESTRATOR_ROLE = "ixstream-orchestrator"
#: The seed every test backend derives streamer keys from (a random-looking constant).
KEY_SEED = "kS9vQ2mX7pL4tR8wZ1nB6cY3hF5dJ0gE-test-seed"


@cache
def shipped_grant() -> Grant:
    """The orchestrator's Role from `k8s/rbac.yaml`, bound to its service account."""
    documents = [d for d in yaml.safe_load_all(RBAC_MANIFESTS.read_text()) if d]
    return grant_from_manifests(documents, ORCHESTRATOR_ROLE)


def cluster(nodes: int, gpus: int = 1, *, ready_delay_s: float = 0.02) -> ClusterConfig:
    return ClusterConfig(
        nodes=nodes,
        node_shape=NodeShape(gpus=gpus, max_pods=250),
        namespaces=(NAMESPACE,),
        kubelet=KubeletConfig(ready_delay_s=ready_delay_s),
    )


@contextlib.asynccontextmanager
async def simulated(
    config: ClusterConfig,
    tmp_path: Path,
    *,
    enforce_role: bool = True,
    grant: Grant | None = None,
    bookmark_interval_s: float = 5.0,
) -> AsyncIterator[RunningSimulator]:
    """A running simulator allowing only what `grant` allows: by default the shipped
    Role; with `enforce_role=False`, everything."""
    if grant is None and enforce_role:
        grant = shipped_grant()
    async with running_simulator(
        config, tmp_path / "kubeconfig", grant=grant, bookmark_interval_s=bookmark_interval_s
    ) as sim:
        yield sim


def settings(sim: RunningSimulator, **overrides: Any) -> KubernetesSettings:
    values: dict[str, Any] = {
        "kubeconfig": sim.kubeconfig,
        "namespace": NAMESPACE,
        "runtime_class_name": None,
        "stop_grace_s": 1,
        "node_lost_toleration_s": 1,
        "streamer_key_seed": KEY_SEED,
        **overrides,
    }
    return KubernetesSettings.model_validate(values)


@contextlib.asynccontextmanager
async def opened(sim: RunningSimulator, **overrides: Any) -> AsyncIterator[KubernetesBackend]:
    backend = KubernetesBackend(settings(sim, **overrides))
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


async def admin(sim: RunningSimulator, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the simulator's own operations (`/_sim/...`), outside the Kubernetes API."""
    async with httpx.AsyncClient(
        base_url=sim.url, headers={"Authorization": f"Bearer {sim.token}"}, trust_env=False
    ) as client:
        response = await client.post(f"/_sim/{path}", json=body or {})
        response.raise_for_status()
        return response.json()


async def inject(sim: RunningSimulator, *faults: dict[str, Any]) -> list[dict[str, Any]]:
    """Add fault rules to the simulator's plan (`kubesim.faults`), over its HTTP admin
    endpoint as an operator would; returns the plan in force."""
    plan: list[dict[str, Any]] = (await admin(sim, "faults", {"faults": list(faults)}))["faults"]
    return plan


async def fault_plan(sim: RunningSimulator) -> list[dict[str, Any]]:
    """The rules in force, each with its `hits` so far."""
    async with httpx.AsyncClient(
        base_url=sim.url, headers={"Authorization": f"Bearer {sim.token}"}, trust_env=False
    ) as client:
        response = await client.get("/_sim/faults")
        response.raise_for_status()
        plan: list[dict[str, Any]] = response.json()["faults"]
        return plan
