"""The after-action store: each session's scenario log, kept after the session is gone.

One file per session, `<aar_dir>/<session_id>.jsonl`, one log entry (C2/C4: `seq`,
`at`, `t`, `kind`, ...) per line, append-only and in `seq` order. The orchestrator
pulls entries from the streamer's `GET /v1/scenario/log?after=<cursor>`; the cursor is
the last `seq` stored, read back from the file's last line after a restart, so a
restarted orchestrator neither loses nor repeats entries. Files older than the
retention (by modification time: a live session's file is touched on every pull) are
deleted by `sweep`.

Writes are synchronous on the event loop, like the journal: a pull appends a few
hundred bytes a second per session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import structlog

from orchestrator.errors import ArtifactNotFoundError

SUFFIX = ".jsonl"
#: A session id as the API accepts it: also a safe file name.
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: The cursor before the first entry (C4: `seq` counts from 0; `after=-1` is all).
NO_ENTRIES = -1
#: Enough of a file's end to hold its last entry.
TAIL_BYTES = 64 * 1024

log = structlog.get_logger("orchestrator.scenarios.aar")


class AfterActionStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cursors: dict[str, int] = {}

    def path(self, session_id: str) -> Path:
        if not SESSION_ID.match(session_id):
            raise ArtifactNotFoundError(f"{session_id!r} is not a session id")
        return self.directory / f"{session_id}{SUFFIX}"

    def existing(self, session_id: str) -> Path:
        """The session's log file; `ArtifactNotFoundError` if it has none."""
        path = self.path(session_id)
        if not path.is_file():
            raise ArtifactNotFoundError(
                f"session {session_id} has no after-action log (it ran no scenario "
                "document, or its log was deleted after the retention period)"
            )
        return path

    def cursor(self, session_id: str) -> int:
        """The last `seq` stored for the session (`NO_ENTRIES` if none)."""
        if session_id not in self._cursors:
            self._cursors[session_id] = _last_seq(self.path(session_id))
        return self._cursors[session_id]

    def append(self, session_id: str, entries: Iterable[Mapping[str, Any]]) -> int:
        """Store the entries past the cursor, in order; returns how many were new."""
        cursor = self.cursor(session_id)
        lines = []
        for entry in entries:
            seq = entry.get("seq")
            if isinstance(seq, int) and seq > cursor:
                lines.append(json.dumps(entry, separators=(",", ":"), default=str) + "\n")
                cursor = seq
        if lines:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.path(session_id).open("a", encoding="utf-8") as file:
                file.writelines(lines)
            self._cursors[session_id] = cursor
        return len(lines)

    def forget(self, session_id: str) -> None:
        """Drop the cached cursor (the session is over; the file stays)."""
        self._cursors.pop(session_id, None)

    def sweep(self, now: float, max_age_s: float) -> list[Path]:
        """Delete logs last written more than `max_age_s` before `now`; returns them."""
        deleted: list[Path] = []
        if not self.directory.is_dir():
            return deleted
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                if path.stat().st_mtime < now - max_age_s:
                    path.unlink()
                    deleted.append(path)
                    self._cursors.pop(path.stem, None)
            except FileNotFoundError:
                continue
        if deleted:
            log.info("aar.swept", deleted=[p.name for p in deleted], max_age_s=max_age_s)
        return deleted


def _last_seq(path: Path) -> int:
    """The `seq` of the file's last complete entry. A line torn by a crash (no final
    newline) is cut off first, so the next append starts on a line of its own."""
    try:
        with path.open("rb+") as file:
            size = file.seek(0, 2)
            start = max(0, size - TAIL_BYTES)
            file.seek(start)
            tail = file.read()
            if tail and not tail.endswith(b"\n"):
                cut = tail.rfind(b"\n") + 1
                file.truncate(start + cut)
                tail = tail[:cut]
    except FileNotFoundError:
        return NO_ENTRIES
    for line in reversed(tail.splitlines()):
        try:
            seq = json.loads(line).get("seq")
        except (ValueError, AttributeError):
            continue
        if isinstance(seq, int):
            return seq
    return NO_ENTRIES
