"""Run the simulator's HTTP server inside the current event loop.

`running_simulator()` is what the tests and the benchmark use: it binds a loopback
port (0: any free one), starts the cluster and uvicorn as tasks it owns, writes the
kubeconfig, and on exit stops the server, ends every watch stream and every process the
kubelet runs. The CLI (`python -m kubesim`) runs the same thing until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from kubesim.cluster import Cluster, ClusterConfig
from kubesim.kubeconfig import write_kubeconfig
from kubesim.rbac import Grant
from kubesim.server import Simulator


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    url: str
    port: int
    token: str
    kubeconfig: Path
    cluster: Cluster


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the owner of the loop decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@contextlib.asynccontextmanager
async def running_simulator(
    config: ClusterConfig,
    kubeconfig: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    namespace: str = "default",
    token: str | None = None,
    bookmark_interval_s: float = 5.0,
    grant: Grant | None = None,
) -> AsyncIterator[RunningSimulator]:
    """Serve `config`; with `grant`, every API request is authorized as RBAC would
    (a Role's rules for one user), else every authenticated request is allowed."""
    cluster = Cluster(config)
    simulator = Simulator(cluster, token, bookmark_interval_s, grant=grant)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections: without it, h11 writing a response's head and
    # body separately meets the client's delayed ACK (Nagle) and each request pays 40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    bound = sock.getsockname()[1]
    server = _QuietServer(
        uvicorn.Config(
            simulator.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            backlog=1024,
        )
    )
    await cluster.start()
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="kubesim:http")
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        url = f"http://{host}:{bound}"
        path = write_kubeconfig(kubeconfig, url, simulator.token, namespace)
        yield RunningSimulator(url, bound, simulator.token, path, cluster)
    finally:
        cluster.store.close_watchers()
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        await cluster.close()
        sock.close()
