"""`api_cluster`: the backend's core tests against the simulator and, when asked, a real
cluster.

Each test that takes `api_cluster` runs twice: on the simulator (always) and on the
cluster `KUBECONFIG` names (kind, k3s, a cloud cluster), marked `real_cluster`. The
real run needs both `-m real_cluster` and `KUBECONFIG`, so a plain `pytest` never
touches a cluster someone happens to have configured; otherwise it is skipped with the
reason. On a real cluster every test gets a throwaway namespace, deleted afterwards
(with everything in it). docs/kubernetes.md says how to run it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.kubernetes.settings import KubernetesSettings
from tests.kubesim.harness import KEY_SEED, NAMESPACE, cluster, simulated
from tests.kubesim.harness import settings as simulator_settings
from tests.orchestrator.backends.kubernetes.clusters import (
    REAL,
    ApiCluster,
    RealClusterSettings,
    marker_selected,
    throwaway_namespace,
)


@pytest.fixture(params=["simulator", pytest.param(REAL, marks=pytest.mark.real_cluster)])
async def api_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ApiCluster]:
    if request.param == "simulator":
        async with simulated(cluster(nodes=2, gpus=4), tmp_path) as sim:
            yield ApiCluster(
                "simulator",
                NAMESPACE,
                30.0,
                lambda **overrides: simulator_settings(sim, **overrides),
            )
        return
    real = RealClusterSettings()
    if real.kubeconfig is None:
        pytest.skip(
            "real_cluster: KUBECONFIG is not set (docs/kubernetes.md, "
            "'Testing against a real cluster')"
        )
    if not marker_selected(request.config):
        pytest.skip("real_cluster: not selected; run with `-m real_cluster` to use KUBECONFIG")
    async with throwaway_namespace(real) as namespace:

        def make(**overrides: Any) -> KubernetesSettings:
            values: dict[str, Any] = {
                "kubeconfig": real.kubeconfig,
                "context": real.context,
                "namespace": namespace,
                "image": real.image,
                "gpu_resource": real.gpu_resource,
                "runtime_class_name": None,
                "service_account": None,
                "tolerations": [],
                "stop_grace_s": 5,
                "streamer_key_seed": KEY_SEED,
                **overrides,
            }
            return KubernetesSettings.model_validate(values)

        yield ApiCluster(REAL, namespace, real.ready_timeout_s, make)
