"""The streamer's command line, for both backends (docs/streamer-contract.md).

A local streamer is `python -m ixstream stream ...`; a pod runs the image's
`ixstream` entrypoint with `stream ...` as its args. What follows the subcommand is
the same contract either way and is built here, once: where to listen (the main port and
the metrics port, which serves only Prometheus' `/metrics`), which ICE host
candidates to offer, the profile (size, rate, codec, bitrate, source, scene, stereo)
and the bound session. Each backend supplies what differs: the local one a port file
with port 0 (the kernel picks a free port and the streamer writes it down), the pod a
fixed port and the pod IP the kubelet expands for `$(POD_IP)`.

The command line never holds a secret (argv is world-readable in /proc and in the pod
spec): the streamer's token key arrives in its environment, under `KEY_ENV`. So do
the origins whose pages may use the streamer's WHEP endpoint directly (`CORS_ENV`,
the orchestrator's own allowed origins), so that a direct WHEP URL admits the same
players as the proxied one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from orchestrator.backends.base import StreamerProfile

SUBCOMMAND = "stream"
#: The streamer's HS256 key for session tokens (never on argv).
KEY_ENV = "IXS_STREAMER_JWT_SECRET"
#: The ICE servers (STUN/TURN, with credentials) as JSON.
ICE_ENV = "IXS_STREAMER_ICE_SERVERS"
#: The origins allowed to use the streamer's WHEP endpoint (CORS), as a JSON list.
CORS_ENV = "IXS_STREAMER_CORS_ORIGINS"


def cors_env(origins: Sequence[str]) -> dict[str, str]:
    """The streamer's environment entry for the allowed origins (`ixstream/cors.py`)."""
    return {CORS_ENV: json.dumps(list(origins))}


def profile_args(profile: StreamerProfile) -> list[str]:
    """What the streamer renders and how it encodes it."""
    args = ["--width", str(profile.width), "--height", str(profile.height)]
    args += ["--fps", str(profile.fps), "--codec", profile.codec]
    args += ["--bitrate-kbps", str(profile.bitrate_kbps), "--source", profile.source]
    if profile.scene is not None:
        args += ["--scene", profile.scene]
    if profile.stereo:
        args.append("--stereo")
    return args


def streamer_command(
    entry: Sequence[str],
    profile: StreamerProfile,
    session_id: str | None,
    *,
    host: str,
    port: int,
    port_file: Path | None = None,
    metrics_port: int | None = None,
    metrics_port_file: Path | None = None,
    ice_hosts: Sequence[str] = (),
    host_sessions: int | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """`entry` (whatever reaches the `stream` subcommand, itself included) followed by
    the listen address, ICE host candidates, profile, the sessions sharing the host's
    cores, the session and `extra_args`.

    A warm streamer has no session yet (`session_id=None`): it is bound at claim time.
    """
    argv = [*entry, "--host", host, "--port", str(port)]
    if port_file is not None:
        argv += ["--port-file", str(port_file)]
    if metrics_port is not None:  # else the streamer's default (9090)
        argv += ["--metrics-port", str(metrics_port)]
    if metrics_port_file is not None:
        argv += ["--metrics-port-file", str(metrics_port_file)]
    for address in ice_hosts:
        argv += ["--ice-host", address]
    argv += profile_args(profile)
    if host_sessions is not None:  # else the streamer's own (one: a pod's cores are its own)
        argv += ["--host-sessions", str(host_sessions)]
    if session_id is not None:
        argv += ["--session-id", session_id]
    return [*argv, *extra_args]
