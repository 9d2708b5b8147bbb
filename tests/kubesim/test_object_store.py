"""The store's resourceVersion, optimistic concurrency and watch history."""

from __future__ import annotations

import pytest

from kubesim import kinds
from kubesim.errors import AlreadyExists, Conflict, Gone
from kubesim.selectors import EVERYTHING, NO_FIELDS, parse_label_selector
from kubesim.store import Store


def _configmap(name: str = "", **labels: str) -> dict[str, object]:
    meta: dict[str, object] = {"labels": labels}
    meta["name" if name else "generateName"] = name or "cm-"
    return {"metadata": meta}


async def test_every_write_gets_a_new_resource_version_and_generate_name_a_suffix() -> None:
    store = Store()
    first = store.create(kinds.CONFIGMAPS, "ns", _configmap())
    second = store.create(kinds.CONFIGMAPS, "ns", _configmap())
    assert first["metadata"]["name"].startswith("cm-")
    assert len(first["metadata"]["name"]) == len("cm-") + 5
    assert first["metadata"]["name"] != second["metadata"]["name"]
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    with pytest.raises(AlreadyExists):
        store.create(kinds.CONFIGMAPS, "ns", _configmap(first["metadata"]["name"]))


async def test_an_update_from_a_stale_read_is_a_conflict() -> None:
    store = Store()
    read = store.create(kinds.CONFIGMAPS, "ns", _configmap("x"))
    version = read["metadata"]["resourceVersion"]
    store.update(kinds.CONFIGMAPS, read, expected_version=version)
    with pytest.raises(Conflict, match="the object has been modified"):
        store.update(kinds.CONFIGMAPS, read, expected_version=version)


async def test_a_watch_replays_what_happened_after_its_version_and_filters_by_label() -> None:
    store = Store()
    start = store.revision
    store.create(kinds.CONFIGMAPS, "ns", _configmap("a", team="x"))
    store.create(kinds.CONFIGMAPS, "ns", _configmap("b", team="y"))
    watcher = store.watch(
        kinds.CONFIGMAPS, "ns", parse_label_selector("team=x"), NO_FIELDS, since=start
    )
    line = watcher.queue.get_nowait()
    assert line is not None
    assert b'"type":"ADDED"' in line
    assert b'"name":"a"' in line
    assert watcher.queue.empty()


async def test_a_watch_from_before_the_kept_history_is_gone() -> None:
    store = Store(history_size=3)
    start = store.revision
    for i in range(5):
        store.create(kinds.CONFIGMAPS, "ns", _configmap(f"c{i}"))
    with pytest.raises(Gone):
        store.watch(kinds.CONFIGMAPS, "ns", EVERYTHING, NO_FIELDS, since=start)
