"""Owner-reference garbage collection (garbage-collection.md, background cascading
deletion): when an object is deleted, the objects that list it in
`metadata.ownerReferences` are deleted too. This is how a per-streamer Secret or
Service follows its pod without anyone deleting it explicitly. An object created with
owner references that all name absent owners (deleted, or another object by that name
and a different uid) is deleted as well, as the real collector does: a dependent born
after its owner died does not outlive it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from kubesim import kinds
from kubesim.errors import NotFound
from kubesim.kinds import Kind
from kubesim.registry import Registry
from kubesim.store import Event

Dependent = tuple[Kind, str, str]
_KINDS: dict[tuple[str, str], Kind] = {(k.api_version, k.kind): k for k in kinds.ALL}


class GarbageCollector:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._dependents: dict[str, set[Dependent]] = defaultdict(set)
        self._tasks: set[asyncio.Task[Any]] = set()
        registry.store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        me: Dependent = (event.kind, meta.get("namespace", ""), meta["name"])
        for ref in meta.get("ownerReferences") or []:
            owners = self._dependents[ref["uid"]]
            if event.type == "DELETED":
                owners.discard(me)
            else:
                owners.add(me)
        if event.type == "DELETED":
            doomed = self._dependents.pop(meta.get("uid", ""), set())
            if doomed:
                self._spawn(doomed)
        elif event.type == "ADDED" and self._orphaned(meta):
            self._spawn({me})

    def _orphaned(self, meta: dict[str, Any]) -> bool:
        """Whether every owner the object names is absent."""
        refs = meta.get("ownerReferences") or []
        return bool(refs) and not any(self._owner_exists(meta, ref) for ref in refs)

    def _owner_exists(self, meta: dict[str, Any], ref: dict[str, Any]) -> bool:
        kind = _KINDS.get((ref.get("apiVersion", ""), ref.get("kind", "")))
        if kind is None:
            return True  # a kind the simulator does not serve: not ours to judge
        namespace = meta.get("namespace", "") if kind.namespaced else ""
        owner = self._registry.store.find(kind, namespace, ref.get("name", ""))
        return owner is not None and owner["metadata"].get("uid") == ref.get("uid")

    def _spawn(self, doomed: set[Dependent]) -> None:
        task = asyncio.get_running_loop().create_task(self._collect(doomed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _collect(self, doomed: set[Dependent]) -> None:
        for kind, namespace, name in doomed:
            try:
                self._registry.delete(kind, namespace, name)
            except NotFound:
                continue

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
