"""Process facts from Linux's /proc: is a PID still *our* process, and which PID runs a
given command line.

A PID alone is not an identity: after a process exits the kernel may give its number
to an unrelated one. The process start time (field 22 of /proc/PID/stat, in clock ticks
since boot) is recorded at spawn and compared before any signal is sent, so a restart
never kills a stranger. This module is Linux-only; elsewhere `start_ticks` returns None
and the local backend treats such a process as gone (it may leak, but never kill the
wrong process).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PROC = Path("/proc")


def stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat from field 3 (state) on, or None if there is no such PID."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError, NotADirectoryError):
        return None
    # Field 2 (comm) is parenthesised and may contain spaces and parentheses.
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot, or None."""
    fields = stat_fields(pid)
    return int(fields[19]) if fields else None


def is_running(pid: int, expected_start_ticks: int | None) -> bool:
    """Whether PID is alive (not a zombie) and is the process that started at that tick."""
    fields = stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return expected_start_ticks is None or int(fields[19]) == expected_start_ticks


def find_pid_with_argument(argument: str) -> int | None:
    """The PID of a live process whose command line contains `argument` exactly.

    Closes a crash window: an orchestrator killed between spawning a streamer and
    recording its PID left a state file naming the streamer's unique `--port-file`
    path, which is enough to find it.
    """
    needle = argument.encode()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "cmdline").read_bytes().split(b"\0"):
                pid = int(entry.name)
                if pid != os.getpid() and is_running(pid, None):
                    return pid
    return None
