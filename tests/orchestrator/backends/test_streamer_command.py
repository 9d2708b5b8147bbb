"""The streamer's command line as each backend builds it (docs/streamer-contract.md):
one table of launches, local and in a pod, with the exact argv each must produce. The
local backend listens on port 0 and names a port file; the pod listens on its fixed
port, on the pod IP the kubelet expands; both pass the profile and the bound session
the same way, and neither ever puts the streamer's key on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.backends.base import StreamerProfile
from orchestrator.backends.kubernetes.manifests import streamer_args
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.backends.streamer_command import SUBCOMMAND, streamer_command

SCENE = StreamerProfile("scene", "/scenes/a.glb", 2560, 1440, 72, "vp8", True, 9000)
PATTERN = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)
LOCAL = ("python", "-m", "ixstream", "stream")
SCENE_ARGS = [
    "--width", "2560", "--height", "1440", "--fps", "72", "--codec", "vp8",
    "--bitrate-kbps", "9000", "--source", "scene", "--scene", "/scenes/a.glb", "--stereo",
]  # fmt: skip
PATTERN_ARGS = [
    "--width", "320", "--height", "240", "--fps", "15", "--codec", "h264",
    "--bitrate-kbps", "500", "--source", "test-pattern",
]  # fmt: skip

CASES: list[tuple[str, tuple[str, ...], StreamerProfile, str | None, dict[str, Any], list[str]]] = [
    (
        "a local streamer for a session, with an ICE host",
        LOCAL, SCENE, "s-1",
        {"host": "127.0.0.1", "port": 0, "port_file": Path("/s/p.port"), "metrics_port": 0,
         "metrics_port_file": Path("/s/p.metrics-port"), "ice_hosts": ("127.0.0.1",)},
        [*LOCAL, "--host", "127.0.0.1", "--port", "0", "--port-file", "/s/p.port",
         "--metrics-port", "0", "--metrics-port-file", "/s/p.metrics-port",
         "--ice-host", "127.0.0.1", *SCENE_ARGS, "--session-id", "s-1"],
    ),
    (
        "a local streamer that shares the host with three others",
        LOCAL, PATTERN, "s-2",
        {"host": "127.0.0.1", "port": 0, "port_file": Path("p"), "host_sessions": 4},
        [*LOCAL, "--host", "127.0.0.1", "--port", "0", "--port-file", "p", *PATTERN_ARGS,
         "--host-sessions", "4", "--session-id", "s-2"],
    ),
    (
        "a warm local streamer on IPv6: no session yet, no ICE host given",
        ("x",), PATTERN, None,
        {"host": "::1", "port": 0, "port_file": Path("p")},
        ["x", "--host", "::1", "--port", "0", "--port-file", "p", *PATTERN_ARGS],
    ),
    (
        "a pod's streamer on the pod IP, offered as its only ICE host, with extra args",
        (SUBCOMMAND,), PATTERN, "s-0123abcd",
        {"host": "$(POD_IP)", "port": 9000, "ice_hosts": ("$(POD_IP)",),
         "extra_args": ["--log-level", "debug"]},
        ["stream", "--host", "$(POD_IP)", "--port", "9000", "--ice-host", "$(POD_IP)",
         *PATTERN_ARGS, "--session-id", "s-0123abcd", "--log-level", "debug"],
    ),
    (
        "two ICE hosts, in the order given",
        (SUBCOMMAND,), PATTERN, None,
        {"host": "0.0.0.0", "port": 8080, "ice_hosts": ("10.0.0.5", "192.0.2.7")},
        ["stream", "--host", "0.0.0.0", "--port", "8080", "--ice-host", "10.0.0.5",
         "--ice-host", "192.0.2.7", *PATTERN_ARGS],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "profile", "session_id", "options", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_launch_gets_exactly_its_command_line(
    entry: tuple[str, ...],
    profile: StreamerProfile,
    session_id: str | None,
    options: dict[str, Any],
    expected: list[str],
) -> None:
    argv = streamer_command(entry, profile, session_id, **options)
    assert argv == expected
    assert "secret" not in " ".join(argv).lower()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, ["stream", "--host", "$(POD_IP)", "--port", "8080", "--metrics-port", "9090",
              *PATTERN_ARGS]),
        (
            {"listen_host": "0.0.0.0", "port": 9000, "metrics_port": 9100,
             "ice_host_from_pod_ip": True, "extra_args": ["--verbose"]},
            ["stream", "--host", "0.0.0.0", "--port", "9000", "--metrics-port", "9100",
             "--ice-host", "$(POD_IP)", *PATTERN_ARGS, "--verbose"],
        ),
    ],
)  # fmt: skip
def test_the_pod_args_come_from_the_kubernetes_settings(
    settings: dict[str, Any], expected: list[str]
) -> None:
    assert streamer_args(KubernetesSettings(**settings), PATTERN, None) == expected
