"""Statements on disk until the LRS has them: nothing is lost while it is down, and
nothing is sent twice.

Three folders under the outbox directory:

- `pending/<n>-<id>.json`: waiting, delivered in `n` order (the order the facts
  happened, so `launched` reaches the LRS before `completed`). Written to a temporary
  file, fsync'd, renamed, and the folder fsync'd, so a crash leaves a whole statement
  or none.
- `delivered/<id>`: an empty marker per delivered statement, kept for
  `delivered_retention_days`, so a fact seen again is recognised and not queued again.
- `dead/<id>.json`: statements the LRS refused for good, with the reason, for an
  operator to read (and, once the cause is fixed, move back to `pending/`).

Writes are synchronous on the event loop, like the session journal: a session makes a
few dozen statements of a few hundred bytes. The waiting files are listed once, at
`open`, and then kept in memory in order, so a backlog of thousands after a long LRS
outage costs no directory listing per statement.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.learning.statements import Statement

SUFFIX = ".json"
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Pending:
    """A statement waiting in the outbox."""

    path: Path
    statement: Statement

    @property
    def id(self) -> str:
        return str(self.statement["id"])


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.pending_dir = directory / "pending"
        self.delivered_dir = directory / "delivered"
        self.dead_dir = directory / "dead"
        self._known: set[str] = set()
        self._next = 0
        #: The waiting files, oldest first (what `pending/` holds, in `n` order).
        self._waiting: deque[Path] = deque()

    def open(self, now: float, retention_days: float) -> None:
        """Create the folders, forget delivered ids past the retention, and index what
        a previous run left."""
        for folder in (self.pending_dir, self.delivered_dir, self.dead_dir):
            folder.mkdir(parents=True, exist_ok=True)
        for tmp in self.pending_dir.glob("*.tmp"):  # a write a crash interrupted
            tmp.unlink(missing_ok=True)
        cutoff = now - retention_days * DAY_S
        for marker in self.delivered_dir.iterdir():
            if marker.stat().st_mtime < cutoff:
                marker.unlink(missing_ok=True)
            else:
                self._known.add(marker.name)
        self._known.update(p.stem for p in self.dead_dir.glob(f"*{SUFFIX}"))
        for path in sorted(self.pending_dir.glob(f"*{SUFFIX}")):
            number, _, statement_id = path.stem.partition("-")
            self._known.add(statement_id)
            self._waiting.append(path)
            if number.isdigit():
                self._next = max(self._next, int(number) + 1)

    def __len__(self) -> int:
        return len(self._waiting)

    def knows(self, statement_id: str) -> bool:
        """Whether the id is already queued, delivered or dead-lettered."""
        return statement_id in self._known

    def add(self, statement: Statement) -> bool:
        """Queue one statement durably; False when it is known (the same fact again)."""
        return self.add_all([statement]) == 1

    def add_all(self, statements: Iterable[Statement]) -> int:
        """Queue the statements not already known, durably, in order; returns how many.
        Each file is fsync'd; the folder once for all of them (a log page at a time)."""
        added = 0
        for statement in statements:
            statement_id = str(statement["id"])
            if statement_id in self._known:
                continue
            path = self.pending_dir / f"{self._next:012d}-{statement_id}{SUFFIX}"
            _write_file(path, json.dumps(statement, separators=(",", ":")).encode())
            self._next += 1
            self._known.add(statement_id)
            self._waiting.append(path)
            added += 1
        if added:
            _fsync_folder(self.pending_dir)
        return added

    def head(self) -> Pending | None:
        """The oldest waiting statement. An unreadable file (edited by hand, a disk
        fault) is dead-lettered rather than blocking every statement behind it."""
        while self._waiting:
            path = self._waiting[0]
            try:
                statement: Any = json.loads(path.read_bytes())
                if isinstance(statement, dict) and isinstance(statement.get("id"), str):
                    return Pending(path, statement)
                why = "not an xAPI statement with an id"
            except (OSError, ValueError) as exc:
                why = f"unreadable: {exc}"
            _write_durably(self.dead_dir / path.name, json.dumps({"reason": why}).encode())
            self._done(path)
        return None

    def delivered(self, item: Pending) -> None:
        """The LRS has it. Not fsync'd: after a crash a lost marker (or a pending file
        back from the dead) only means one more send, which the LRS recognises by id."""
        (self.delivered_dir / item.id).touch()
        self._done(item.path)

    def dead_letter(self, item: Pending, reason: str) -> Path:
        """Keep a refused statement aside with the reason; returns where."""
        path = self.dead_dir / f"{item.id}{SUFFIX}"
        body = {"reason": reason, "statement": item.statement}
        _write_durably(path, json.dumps(body, indent=1).encode())
        self._done(item.path)
        return path

    def _done(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        if self._waiting and self._waiting[0] == path:
            self._waiting.popleft()
        else:
            self._waiting.remove(path)

    def dead(self) -> list[dict[str, Any]]:
        """The dead-lettered statements with their reasons (operators and tests)."""
        return [json.loads(p.read_bytes()) for p in sorted(self.dead_dir.glob(f"*{SUFFIX}"))]


def _write_durably(path: Path, data: bytes) -> None:
    _write_file(path, data)
    _fsync_folder(path.parent)


def _write_file(path: Path, data: bytes) -> None:
    """Write to a temporary name, fsync, rename into place (POSIX rename is atomic):
    a crash leaves the whole file or none."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)


def _fsync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
