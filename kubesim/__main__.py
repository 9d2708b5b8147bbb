"""`python -m kubesim`: run a simulated cluster until interrupted.

    python -m kubesim --port 6443 --nodes 4 --gpus-per-node 1 --ready-delay 0.5 \
        --kubeconfig kubesim.kubeconfig
    kubectl --kubeconfig kubesim.kubeconfig get pods -A

`--run-image IMAGE=ARGV` runs the containers of IMAGE as local processes (ARGV is the
image's entrypoint, shell-split), e.g. `--run-image
ghcr.io/ixstream/streamer="python -m ixstream"`: pods of that image then serve a real
streamer at `podIP:containerPort` on a loopback address.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import signal
import sys
import tempfile
from pathlib import Path

from kubesim.cluster import ClusterConfig, NodeShape
from kubesim.kubelet import KubeletConfig
from kubesim.serve import running_simulator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kubesim",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="write the bound port here")
    parser.add_argument("--kubeconfig", type=Path, default=Path("kubesim.kubeconfig"))
    parser.add_argument(
        "--namespace", action="append", default=[], help="namespace to create at start (repeatable)"
    )
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--gpus-per-node", type=int, default=1)
    parser.add_argument("--gpu-resource", default="nvidia.com/gpu")
    parser.add_argument("--cpu-per-node", default="16")
    parser.add_argument("--memory-per-node", default="64Gi")
    parser.add_argument("--node-label", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=0.05,
        help="seconds from bind to Ready for simulated containers",
    )
    parser.add_argument("--run-image", action="append", default=[], metavar="IMAGE=ARGV")
    parser.add_argument("--work-dir", type=Path, help="logs of run containers")
    parser.add_argument("--probe-period-scale", type=float, default=1.0)
    parser.add_argument(
        "--history",
        type=int,
        default=100_000,
        help="watch events kept for resuming (older: 410 Gone)",
    )
    parser.add_argument("--token", help="bearer token (default: random)")
    return parser.parse_args(argv)


def _config(args: argparse.Namespace) -> ClusterConfig:
    labels = dict(item.split("=", 1) for item in args.node_label)
    run_images = {}
    for item in args.run_image:
        image, _, command = item.partition("=")
        run_images[image] = shlex.split(command)
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="kubesim-"))
    return ClusterConfig(
        nodes=args.nodes,
        node_shape=NodeShape(
            gpus=args.gpus_per_node,
            gpu_resource=args.gpu_resource,
            cpu=args.cpu_per_node,
            memory=args.memory_per_node,
            labels=labels,
        ),
        namespaces=tuple(args.namespace),
        history_size=args.history,
        kubelet=KubeletConfig(
            ready_delay_s=args.ready_delay,
            run_images=run_images,
            work_dir=work_dir,
            probe_period_scale=args.probe_period_scale,
        ),
    )


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_simulator(
        _config(args), args.kubeconfig, host=args.host, port=args.port, token=args.token
    ) as sim:
        if args.port_file:
            tmp = args.port_file.with_name(args.port_file.name + ".tmp")
            tmp.write_text(str(sim.port), encoding="utf-8")
            tmp.replace(args.port_file)
        print(
            json.dumps(
                {
                    "event": "listening",
                    "url": sim.url,
                    "port": sim.port,
                    "kubeconfig": str(sim.kubeconfig),
                }
            ),
            flush=True,
        )
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
