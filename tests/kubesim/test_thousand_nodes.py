"""A thousand simulated GPU nodes on one machine (the scale kwok offers): the cluster
starts quickly, lists them over HTTP, and schedules pods across them."""

from __future__ import annotations

import time
from pathlib import Path

from kubernetes_asyncio import client, config

from kubesim import kinds
from tests.kubesim.harness import NAMESPACE, cluster, simulated
from tests.waiting import eventually

NODES = 1000


async def test_a_thousand_gpu_nodes_start_list_and_take_pods(tmp_path: Path) -> None:
    started = time.perf_counter()
    async with simulated(cluster(nodes=NODES, gpus=8), tmp_path, enforce_role=False) as sim:
        assert time.perf_counter() - started < 10
        api_client = await config.new_client_from_config(config_file=str(sim.kubeconfig))
        async with api_client:
            core = client.CoreV1Api(api_client)
            listing = await core.list_node(_preload_content=False)
            body = await listing.json()
            listing.release()
            assert len(body["items"]) == NODES
            pod = {
                "metadata": {"generateName": "p-"},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "img:1",
                            "resources": {"limits": {"nvidia.com/gpu": "8"}},
                        }
                    ]
                },
            }
            for _ in range(50):
                await core.create_namespaced_pod(NAMESPACE, pod, _preload_content=False)
        await eventually(
            lambda: all(
                p["status"].get("phase") == "Running"
                for p in sim.cluster.store.list(kinds.PODS, NAMESPACE)
            ),
            30,
            "all 50 pods running",
            interval_s=0.02,
        )
        pods = sim.cluster.store.list(kinds.PODS, NAMESPACE)
        assert len(pods) == 50
        nodes = {p["spec"]["nodeName"] for p in pods}
        assert len(nodes) == 50  # 8 GPUs each: one pod per node
