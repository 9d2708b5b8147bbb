"""`python -m kubesim` starts a cluster, writes a kubeconfig a real client can use, and
exits cleanly on SIGTERM, ending the containers it ran."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

from kubernetes_asyncio import client, config

ROOT = Path(__file__).resolve().parents[2]


async def test_the_cli_serves_the_nodes_it_was_asked_for_through_its_kubeconfig(
    tmp_path: Path,
) -> None:
    kubeconfig, port_file = tmp_path / "kubeconfig", tmp_path / "port"
    proc = subprocess.Popen(  # noqa: ASYNC220 (a long-lived child, read in a thread)
        [
            sys.executable,
            "-m",
            "kubesim",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--kubeconfig",
            str(kubeconfig),
            "--nodes",
            "3",
            "--gpus-per-node",
            "2",
            "--ready-delay",
            "0.01",
            "--namespace",
            "ixstream",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        announced = json.loads(await asyncio.to_thread(proc.stdout.readline))
        assert announced["event"] == "listening"
        assert int(port_file.read_text()) == announced["port"]
        api_client = await config.new_client_from_config(config_file=str(kubeconfig))
        async with api_client:
            core = client.CoreV1Api(api_client)
            nodes = (await core.list_node()).items
            assert len(nodes) == 3
            assert all(n.status.allocatable["nvidia.com/gpu"] == "2" for n in nodes)
            namespaces = {n.metadata.name for n in (await core.list_namespace()).items}
            assert "ixstream" in namespaces
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0
