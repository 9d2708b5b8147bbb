"""The after-action store: entries are appended once each, in `seq` order; the cursor
is read back from the file after a restart (a line torn by a crash is cut off first);
the retention sweep deletes only logs last written before the horizon."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orchestrator.errors import ArtifactNotFoundError
from orchestrator.scenarios.aar import NO_ENTRIES, AfterActionStore
from orchestrator.scenarios.recordings import RecordingStore

DAY_S = 86400.0


def entries(*seqs: int) -> list[dict[str, object]]:
    return [{"seq": s, "t": s / 10, "kind": "pose"} for s in seqs]


def stored_seqs(path: Path) -> list[int]:
    return [json.loads(line)["seq"] for line in path.read_text().splitlines()]


def test_entries_are_appended_once_each_in_seq_order(tmp_path: Path) -> None:
    store = AfterActionStore(tmp_path)
    assert store.cursor("s-1") == NO_ENTRIES
    assert store.append("s-1", entries(0, 1, 2)) == 3
    assert store.append("s-1", entries(1, 2, 3, 4)) == 2  # a page that overlaps the last
    assert store.cursor("s-1") == 4
    assert stored_seqs(store.existing("s-1")) == [0, 1, 2, 3, 4]


def test_a_restarted_store_resumes_from_the_files_last_seq(tmp_path: Path) -> None:
    AfterActionStore(tmp_path).append("s-1", entries(0, 1, 2))
    restarted = AfterActionStore(tmp_path)
    assert restarted.cursor("s-1") == 2
    restarted.append("s-1", entries(2, 3))
    assert stored_seqs(tmp_path / "s-1.jsonl") == [0, 1, 2, 3]


def test_a_line_torn_by_a_crash_is_cut_off_before_the_next_append(tmp_path: Path) -> None:
    AfterActionStore(tmp_path).append("s-1", entries(0, 1))
    with (tmp_path / "s-1.jsonl").open("a") as file:
        file.write('{"seq": 2, "t": 0.')  # the crash
    restarted = AfterActionStore(tmp_path)
    assert restarted.cursor("s-1") == 1
    restarted.append("s-1", entries(2))
    assert stored_seqs(tmp_path / "s-1.jsonl") == [0, 1, 2]


def test_a_session_without_a_log_or_a_path_like_id_has_none(tmp_path: Path) -> None:
    store = AfterActionStore(tmp_path)
    with pytest.raises(ArtifactNotFoundError, match="has no after-action log"):
        store.existing("s-none")
    with pytest.raises(ArtifactNotFoundError, match="not a session id"):
        store.existing("../audit")


def test_the_sweep_deletes_only_logs_older_than_the_retention(tmp_path: Path) -> None:
    store = AfterActionStore(tmp_path)
    now = 1_800_000_000.0
    for session_id, age_days in (("s-old", 31), ("s-edge", 29.9), ("s-new", 0)):
        store.append(session_id, entries(0))
        mtime = now - age_days * DAY_S
        os.utime(tmp_path / f"{session_id}.jsonl", (mtime, mtime))
    (tmp_path / "notes.txt").write_text("not a log")
    os.utime(tmp_path / "notes.txt", (0, 0))

    deleted = store.sweep(now, 30 * DAY_S)

    assert [p.name for p in deleted] == ["s-old.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "s-edge.jsonl", "s-new.jsonl"
    ]  # fmt: skip
    assert store.cursor("s-old") == NO_ENTRIES  # forgotten with its file


def test_the_sweep_deletes_only_recordings_older_than_their_retention(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    now = 1_800_000_000.0
    for name, age_days in (
        ("s-old.mp4", 8), ("s-old2.webm", 30), ("s-torn.mp4.part", 9), ("s-new.mp4", 1),
        ("keep.txt", 99),
    ):  # fmt: skip
        (tmp_path / name).write_bytes(b"\x00")
        mtime = now - age_days * DAY_S
        os.utime(tmp_path / name, (mtime, mtime))

    deleted = store.sweep(now, 7 * DAY_S)

    assert sorted(p.name for p in deleted) == ["s-old.mp4", "s-old2.webm", "s-torn.mp4.part"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "s-new.mp4"]
    assert store.sweep(now, 7 * DAY_S) == []
