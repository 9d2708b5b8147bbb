"""The outbox on disk: statements come out in the order they went in, survive a
restart, are never queued twice (waiting, delivered or refused), and a damaged file is
set aside instead of blocking the rest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from orchestrator.learning.outbox import DAY_S, Outbox

NOW = 1_765_000_000.0


def statement(n: int) -> dict[str, Any]:
    return {"id": f"00000000-0000-5000-8000-{n:012d}", "n": n}


def opened(directory: Path, now: float = NOW, retention_days: float = 30) -> Outbox:
    outbox = Outbox(directory)
    outbox.open(now, retention_days)
    return outbox


def drain(outbox: Outbox) -> list[int]:
    seen = []
    while (item := outbox.head()) is not None:
        seen.append(item.statement["n"])
        outbox.delivered(item)
    return seen


def test_statements_come_out_in_order_and_survive_a_restart(tmp_path: Path) -> None:
    outbox = opened(tmp_path)
    assert all(outbox.add(statement(n)) for n in (3, 1, 2))
    assert len(outbox) == 3
    again = opened(tmp_path)  # a new run
    assert again.add(statement(9))
    assert drain(again) == [3, 1, 2, 9]


def test_a_statement_is_queued_once_whether_waiting_delivered_or_refused(tmp_path: Path) -> None:
    outbox = opened(tmp_path)
    assert outbox.add(statement(1))
    assert not outbox.add(statement(1))  # waiting
    drain(outbox)
    assert outbox.add(statement(2))
    item = outbox.head()
    assert item is not None
    outbox.dead_letter(item, "HTTP 400: no")
    restarted = opened(tmp_path)
    assert not restarted.add(statement(1))  # delivered before the restart
    assert not restarted.add(statement(2))  # refused before the restart
    assert restarted.head() is None
    assert restarted.dead() == [{"reason": "HTTP 400: no", "statement": statement(2)}]


def test_delivered_ids_are_forgotten_after_the_retention(tmp_path: Path) -> None:
    outbox = opened(tmp_path)
    outbox.add(statement(1))
    drain(outbox)
    marker = next(outbox.delivered_dir.iterdir())
    os.utime(marker, (NOW - 31 * DAY_S, NOW - 31 * DAY_S))
    later = opened(tmp_path, now=NOW, retention_days=30)
    assert not any(later.delivered_dir.iterdir())
    assert later.add(statement(1))


def test_a_damaged_file_is_set_aside_and_the_rest_still_flows(tmp_path: Path) -> None:
    outbox = opened(tmp_path)
    outbox.add(statement(1))
    outbox.add(statement(2))
    first = sorted(outbox.pending_dir.iterdir())[0]
    first.write_text('{"id": "00000000-0000-5000-8000-0000')  # torn by hand or by a fault
    (outbox.pending_dir / "000000000099-x.json.tmp").write_text("half")  # a crashed write
    restarted = opened(tmp_path)
    assert not list(restarted.pending_dir.glob("*.tmp"))
    assert drain(restarted) == [2]
    [dead] = restarted.dead()
    assert dead["reason"].startswith("unreadable")
