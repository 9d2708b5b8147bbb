"""A body its sender streams without end costs the orchestrator nothing it cannot bound.

Against a real `ixstream up`, over a raw socket that keeps sending a chunked body (300
MiB, as the review's attacker did) while it watches for an answer: a WHEP offer without
a token, or for a session that does not exist, is answered before its body is read; one
with a valid token is cut at the SDP limit (413); a JSON body is cut at the app-wide
limit (413). Each time the orchestrator's peak resident memory (VmHWM, reset first)
stays within a few MiB of where it was, and it goes on serving.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from orchestrator.identity import Role
from tests.orchestrator.conftest import UpProcess, auth

pytestmark = pytest.mark.e2e

ATTACK_BYTES = 300 * 1024 * 1024
CHUNK = b"v=0\r\n" * 13107  # ~64 KiB of SDP-looking text
#: Peak memory may grow by this much while a hostile body arrives (allocator slack,
#: one socket buffer); the unbounded read it replaces grew by the body's full size.
HEADROOM_BYTES = 24 * 1024 * 1024


def kib(status_field: str, pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(status_field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {status_field} for {pid}")


def reset_peak(pid: int) -> None:
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS (proc(5))."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def stream_until_answered(
    base_url: str, path: str, headers: dict[str, str], deadline_s: float = 60
) -> tuple[int | None, int]:
    """POST a chunked body of up to `ATTACK_BYTES` and return (the status the server
    answered with, bytes sent before it did). Stops sending as soon as an answer is
    readable, the server closes, or the whole body has gone."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        end = time.monotonic() + deadline_s
        while sent < ATTACK_BYTES and time.monotonic() < end:
            readable, writable, _ = select.select([sock], [sock], [], 1.0)
            if readable:
                break
            if writable:
                try:
                    sock.sendall(frame)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(CHUNK)
        sock.settimeout(10)
        try:
            head = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            return None, sent
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
    return status, sent


@pytest.mark.timeout(240)
def test_a_hostile_stream_of_body_is_refused_at_its_limit_and_costs_no_memory(
    orchestrator_up: Callable[..., UpProcess],
) -> None:
    up = orchestrator_up(pool=0, max_sessions=1)
    pid = up.proc.pid
    with httpx.Client(base_url=up.base_url, timeout=30) as api:
        created = api.post("/v1/sessions?wait=true", json={}, headers=auth("alice"))
        assert created.status_code == 201, created.text
        session = created.json()
        token = api.get(f"/v1/sessions/{session['id']}", headers=auth("alice")).json()["token"]
    sdp = {"Content-Type": "application/sdp"}
    cases = [
        ("/v1/sessions/s-0000000000000000/whep", sdp, 404),
        (f"/v1/sessions/{session['id']}/whep", sdp, 401),
        (f"/v1/sessions/{session['id']}/whep", {**sdp, "Authorization": f"Bearer {token}"}, 413),
        ("/v1/sessions", {"Content-Type": "application/json", **auth("bob", Role.TRAINEE)}, 413),
    ]
    for path, headers, expected in cases:
        reset_peak(pid)
        before = kib("VmRSS", pid) * 1024
        status, sent = stream_until_answered(up.base_url, path, headers)
        peak = kib("VmHWM", pid) * 1024
        assert status == expected, (path, status, sent)
        assert sent < ATTACK_BYTES // 4, f"{path}: the server let {sent} bytes in before answering"
        assert peak - before < HEADROOM_BYTES, f"{path}: peak RSS grew by {peak - before} bytes"
    assert httpx.get(f"{up.base_url}/healthz", timeout=10).status_code == 200
