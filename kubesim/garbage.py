"""Owner-reference garbage collection (garbage-collection.md, background cascading
deletion): when an object is deleted, the objects that list it in
`metadata.ownerReferences` are deleted too. This is how a per-streamer Secret or
Service follows its pod without anyone deleting it explicitly.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from kubesim.errors import NotFound
from kubesim.kinds import Kind
from kubesim.registry import Registry
from kubesim.store import Event

Dependent = tuple[Kind, str, str]


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
