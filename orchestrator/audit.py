"""The audit log: who did what to which session, when (DESIGN.md §3, "Security").

Each record is one JSON line appended to a file (flushed per line, so a crash loses at
most the line being written) and the same record is emitted on the structured log
stream under the event name `audit`. Records carry no secrets: tokens are never
logged, only the role they grant.
"""

from __future__ import annotations

import json
import threading
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import structlog

from orchestrator.clock import Clock


class AuditAction(StrEnum):
    CREATE = "session.create"
    CLAIM = "session.claim"
    JOIN = "session.join"
    END = "session.end"
    FAIL = "session.fail"
    ADOPT = "session.adopt"
    REAP = "streamer.reap"
    SCENARIO_PUT = "scenario.put"
    SCENARIO_COMMAND = "scenario.command"


#: The actor recorded when the orchestrator itself acts (timeouts, reaper, shutdown).
SYSTEM_ACTOR = "system:orchestrator"


class AuditLog:
    """Append-only JSON-lines audit trail. `close()` when done."""

    def __init__(self, path: Path | None, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._log = structlog.get_logger("orchestrator.audit")
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def record(
        self, action: AuditAction, *, actor: str, session_id: str | None, **details: Any
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": self._clock.now(),
            "action": action.value,
            "actor": actor,
            "session": session_id,
            **details,
        }
        line = json.dumps(entry, separators=(",", ":"), default=str)
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()
        self._log.info("audit", **entry)
        return entry

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
