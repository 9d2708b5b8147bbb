"""Runs one streamer process: bind, announce, serve until told to stop or broken.

Announcements go to stdout as JSON lines (`listening`, and in dev a `token`),
so a parent process or a person can read them; logs go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import uvicorn
from fastapi import FastAPI

from ixstream.ice import configure_host_addresses
from ixstream.logs import configure_logging
from streamer.app import create_app, create_metrics_app
from streamer.auth import generate_secret, mint_token
from streamer.settings import StreamerSettings


class StartupError(Exception):
    """The streamer cannot start (port taken, unusable settings)."""


def announce(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def write_port_file(path: Path, port: int) -> None:
    """Atomic (temp file + rename), so a reader never sees a half-written port."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".port-")
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{port}\n")
    os.replace(tmp, path)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(settings: StreamerSettings) -> int:
    """Serves until SIGTERM/SIGINT (exit 0) or a pipeline failure (exit 1)."""
    configure_logging(os.environ.get("IXS_LOG_LEVEL", "info"))
    if settings.auth and settings.jwt_secret is None:
        secret = generate_secret()
        settings = settings.model_copy(update={"jwt_secret": secret})
        token = mint_token(secret, "trainee", settings.session_id, subject="dev")
        announce("token", token=token, note="dev key generated: this token drives the session")
    configure_host_addresses(settings.ice_host_addresses)
    sock = bind(settings.host, settings.port)
    try:
        metrics_sock = bind(settings.host, settings.metrics_port)
    except StartupError:
        sock.close()
        raise
    port = sock.getsockname()[1]
    metrics_port = metrics_sock.getsockname()[1]
    # The metrics port first: whoever waits for the main port file then finds both.
    if settings.metrics_port_file is not None:
        write_port_file(settings.metrics_port_file, metrics_port)
    if settings.port_file is not None:
        write_port_file(settings.port_file, port)
    announce("listening", host=settings.host, port=port, metrics_port=metrics_port)
    return asyncio.run(_serve(settings, sock, metrics_sock))


class _Server(uvicorn.Server):
    """uvicorn, minus its signal capture.

    After a graceful shutdown uvicorn re-raises the SIGTERM it caught, so the
    process would die "killed by SIGTERM" instead of exiting 0; the
    orchestrator must be able to tell a clean stop from a crash.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(
    settings: StreamerSettings, sock: socket.socket, metrics_sock: socket.socket
) -> int:
    """The app on the main socket and `/metrics` alone on the metrics socket, in one
    event loop; when either server stops (signal, pipeline failure, a failed start),
    both do."""
    fatal = asyncio.Event()
    app = create_app(settings, on_fatal=fatal)
    servers = [
        _Server(_config(app, lifespan="on")),
        _Server(_config(create_metrics_app(app.state.metrics), lifespan="off")),
    ]

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)

    async def stop_on_fatal() -> None:
        await fatal.wait()
        stop()

    async def run(server: _Server, listening: socket.socket) -> None:
        try:
            await server.serve(sockets=[listening])
        finally:
            stop()

    watcher = asyncio.create_task(stop_on_fatal())
    try:
        await asyncio.gather(run(servers[0], sock), run(servers[1], metrics_sock))
    finally:
        watcher.cancel()
    if fatal.is_set():
        print("ixstream stream: the render/encode pipeline failed; see the log", file=sys.stderr)
        return 1
    return 0


def _config(app: FastAPI, lifespan: Literal["on", "off"]) -> uvicorn.Config:
    return uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=2, lifespan=lifespan
    )
