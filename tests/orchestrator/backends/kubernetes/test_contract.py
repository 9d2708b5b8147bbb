"""The SessionBackend contract suite, run against KubernetesBackend on the simulator.

The same test functions as `test_backend_contract.py` (imported, not copied), with
this module's fixtures: a fresh `kubesim` cluster per test whose kubelet *runs* the
streamer image as a real `python -m ixstream stream` process on the pod's loopback
IP, and a backend that reaches it through a kubeconfig and the official client's
asyncio port over HTTP, allowed only what the shipped Role allows. Only the helper that
finds streamer processes differs: on Kubernetes they are the kubelet's containers, not
children of the orchestrator, so the simulator's kubelet lists them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import tests.orchestrator.backends.test_backend_contract as contract
from kubesim.cluster import ClusterConfig, NodeShape
from kubesim.kubelet import KubeletConfig
from kubesim.serve import RunningSimulator, running_simulator
from orchestrator.backends.base import SessionBackend
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from tests.kubesim.harness import KEY_SEED, shipped_grant

pytestmark = pytest.mark.e2e

STREAMER_IMAGE = "ghcr.io/ixstream/streamer"
# Every test of the contract suite, collected here again with this module's fixtures,
# so a test added to the suite runs against Kubernetes too without touching this file.
globals().update({name: test for name, test in vars(contract).items() if name.startswith("test_")})


def running_streamers_cluster(work_dir: Path) -> ClusterConfig:
    """Two GPU nodes whose kubelet runs the streamer image's entrypoint locally."""
    return ClusterConfig(
        nodes=2,
        node_shape=NodeShape(gpus=2),
        namespaces=("ixstream",),
        kubelet=KubeletConfig(
            run_images={STREAMER_IMAGE: [sys.executable, "-m", "ixstream"]},
            work_dir=work_dir,
            probe_period_scale=0.2,
        ),
    )


def backend_settings(sim: RunningSimulator, **overrides: object) -> KubernetesSettings:
    values: dict[str, object] = {
        "kubeconfig": sim.kubeconfig,
        "namespace": "ixstream",
        "image": f"{STREAMER_IMAGE}:test",
        "runtime_class_name": None,
        "ice_host_from_pod_ip": True,
        "port": 18080,
        "stop_grace_s": 3,
        "streamer_key_seed": KEY_SEED,
        **overrides,
    }
    return KubernetesSettings.model_validate(values)


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[RunningSimulator]:
    async with running_simulator(
        running_streamers_cluster(tmp_path / "kubelet"),
        tmp_path / "kubeconfig",
        grant=shipped_grant(),
    ) as sim:
        yield sim


@pytest.fixture
def backend_factory(
    simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Path], SessionBackend]:
    kubelet = simulator.cluster.kubelet
    monkeypatch.setattr(contract, "streamer_pids", lambda _state_dir: kubelet.container_pids())
    return lambda _state_dir: KubernetesBackend(backend_settings(simulator))


@pytest.fixture
async def backend(
    backend_factory: Callable[[Path], SessionBackend],
    simulator: RunningSimulator,
    tmp_path: Path,
) -> AsyncIterator[SessionBackend]:
    the_backend = backend_factory(tmp_path / "state")
    await the_backend.open()
    yield the_backend
    await asyncio.gather(*(the_backend.delete(s.id) for s in await the_backend.list()))
    await the_backend.close()
    assert simulator.cluster.kubelet.container_pids() == []
