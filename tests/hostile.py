"""A sender that streams a body without end, and the measures of what it cost the server.

Shared by the orchestrator's and the streamer's body-limit tests: a raw socket sends a
chunked body (300 MiB, as the review's attacker did) while it watches for an answer, so
a server that answers early is seen to, and /proc tells the server's peak memory.
"""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path

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
    base_url: str,
    path: str,
    headers: dict[str, str],
    deadline_s: float = 60,
    method: str = "POST",
) -> tuple[int | None, int]:
    """Send (`method`) a chunked body of up to `ATTACK_BYTES` and return (the status the server
    answered with, bytes sent before it did). Stops sending as soon as an answer is
    readable, the server closes, or the whole body has gone."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Transfer-Encoding: chunked"]
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
