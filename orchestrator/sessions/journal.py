"""The session journal: one JSON file per live session, so a restart loses nothing.

The backend remembers streamers (and which session each is bound to); the journal
remembers the sessions themselves, including queued ones that have no streamer yet.
On start-up the service reads both and re-adopts or fails every session it finds
(`SessionService.recover`). Files are written atomically (temp file + rename) on every
transition and removed when the session reaches a terminal state.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("orchestrator.journal")


class SessionJournal:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)

    def save(self, record: dict[str, Any]) -> None:
        path = self._dir / f"{record['id']}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)

    def remove(self, session_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self._dir / f"{session_id}.json").unlink()

    def load_all(self) -> list[dict[str, Any]]:
        """Every journalled record; unreadable files are logged and set aside."""
        records: list[dict[str, Any]] = []
        for path in sorted(self._dir.glob("*.json")):
            try:
                records.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                log.error("journal.unreadable", file=str(path), error=str(exc))
                with contextlib.suppress(OSError):
                    path.rename(path.with_suffix(".corrupt"))
        return records
