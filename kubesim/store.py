"""The object store: etcd's role, with the API server's watch cache in front of it.

Every write bumps one cluster-wide revision that becomes the object's
`metadata.resourceVersion` (api-concepts.md, "Resource versions": opaque to clients,
but here, as in etcd, a single increasing integer). Writes carry the version the
writer read; a mismatch is a 409 Conflict (api-conventions.md, "Concurrency Control
and Consistency"), which is what makes optimistic claims safe.

Objects are immutable values once stored: writers build new dicts (see `patch`), so
an event, a list response and a controller can share one object without copying.

Each write becomes a watch event kept in a bounded history; a watch started from a
resourceVersion replays the events after it, and one older than the history is
answered 410 Gone (api-concepts.md, "Efficient detection of changes"). Controllers
inside the simulator subscribe to the same events synchronously.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kubesim.errors import AlreadyExists, Conflict, Gone, NotFound
from kubesim.kinds import Kind
from kubesim.selectors import EVERYTHING, NO_FIELDS, FieldSelector, LabelSelector

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace or "", name)

#: Characters of the random suffix `generateName` gets (names.go: no vowels, no
#: look-alikes, so generated names never spell words).
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_LEN = 5
#: A watcher that falls this far behind is closed, as the real watch cache closes
#: slow watchers; it re-lists and resumes.
MAX_PENDING_EVENTS = 200_000


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Event:
    type: str  # ADDED, MODIFIED, DELETED
    kind: Kind
    obj: Obj
    revision: int
    #: The object before this write (MODIFIED, DELETED): a watch's filter judges both.
    previous: Obj | None = None
    _lines: dict[str, bytes] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace", ""))

    def line(self, as_type: str | None = None) -> bytes:
        """The event as one line of a watch stream, as `as_type` (default: its own
        type), serialised once per type for every watcher.

        A DELETED line carries the object as it was before, with the event's
        resourceVersion: what the API server sends a watch the object left by a
        change (cacher.go, `convertToWatchEvent`).
        """
        as_type = as_type or self.type
        line = self._lines.get(as_type)
        if line is None:
            obj = self.obj
            if as_type == "DELETED" and self.previous is not None:
                meta = {**self.previous["metadata"], "resourceVersion": str(self.revision)}
                obj = {**self.previous, "metadata": meta}
            payload = {"type": as_type, "object": obj}
            line = self._lines[as_type] = (
                json.dumps(payload, separators=(",", ":")).encode() + b"\n"
            )
        return line


@dataclass(eq=False)
class Watcher:
    """One open watch stream: a filter and a queue of serialised events."""

    kind: Kind
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def sees(self, event: Event) -> str | None:
        """The event type this watch gets for `event`, or None: it is not shown.

        The filter judges the object before and after the write, as the API server's
        watch cache does (cacher.go, `convertToWatchEvent`): an object that a change
        makes match is ADDED to this watch, one that a change makes stop matching is
        DELETED from it, and only one that matches before and after is MODIFIED.
        """
        if event.kind is not self.kind:
            return None
        if self.namespace is not None and event.namespace != self.namespace:
            return None
        now = event.type != "DELETED" and self._passes(event.obj)
        before = event.previous is not None and self._passes(event.previous)
        if now:
            return "MODIFIED" if before else "ADDED"
        return "DELETED" if before else None

    def _passes(self, obj: Obj) -> bool:
        return self.labels.matches(obj["metadata"].get("labels")) and self.fields.matches(obj)

    def offer(self, line: bytes) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= MAX_PENDING_EVENTS:
            self.close()
            return
        self.queue.put_nowait(line)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


Listener = Callable[[Event], None]


class Store:
    def __init__(self, history_size: int = 100_000) -> None:
        self._objects: dict[str, dict[Key, Obj]] = {}
        self._revision = 1
        self._history: deque[Event] = deque()
        self._history_size = history_size
        self._compacted = 0  # revision of the newest event dropped from history
        self._watchers: set[Watcher] = set()
        self._listeners: list[Listener] = []

    # --- reading ---------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compacted(self) -> int:
        """The newest revision no longer in the watch history (0: nothing dropped)."""
        return self._compacted

    def find(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        return self._objects.get(kind.plural, {}).get((namespace, name))

    def get(self, kind: Kind, namespace: str, name: str) -> Obj:
        obj = self.find(kind, namespace, name)
        if obj is None:
            raise NotFound.object(kind.plural, name, kind.group)
        return obj

    def list(
        self,
        kind: Kind,
        namespace: str | None,
        labels: LabelSelector = EVERYTHING,
        fields: FieldSelector = NO_FIELDS,
    ) -> list[Obj]:
        """Matching objects in key order (namespace, name), like etcd's range read."""
        bucket = self._objects.get(kind.plural, {})
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [
            bucket[k]
            for k in keys
            if labels.matches(bucket[k]["metadata"].get("labels")) and fields.matches(bucket[k])
        ]

    def count(self, kind: Kind) -> int:
        return len(self._objects.get(kind.plural, {}))

    def all(self, kind: Kind) -> Iterable[Obj]:
        return list(self._objects.get(kind.plural, {}).values())

    # --- writing ---------------------------------------------------------------------

    def create(self, kind: Kind, namespace: str, obj: Obj) -> Obj:
        """Store a new object; `generateName` gets a random suffix (names.go)."""
        meta = dict(obj["metadata"])
        bucket = self._objects.setdefault(kind.plural, {})
        if not meta.get("name"):
            prefix = meta["generateName"]
            for _ in range(8):
                candidate = prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_SUFFIX_LEN))
                if (namespace, candidate) not in bucket:
                    break
            meta["name"] = candidate
        key = (namespace, meta["name"])
        if key in bucket:
            raise AlreadyExists.object(kind.plural, meta["name"], kind.group)
        if kind.namespaced:
            meta["namespace"] = namespace
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        stored = {**obj, "apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta}
        return self._commit(kind, key, stored, "ADDED")

    def update(self, kind: Kind, obj: Obj, *, expected_version: str | None) -> Obj:
        """Replace the stored object with `obj` (same key).

        `expected_version`, when given, must equal the stored resourceVersion, else 409
        Conflict: the caller read a stale copy (api-conventions.md, "Concurrency
        Control and Consistency").
        """
        meta = obj["metadata"]
        key = (meta.get("namespace", "") if kind.namespaced else "", meta["name"])
        current = self.get(kind, key[0], key[1])
        if expected_version is not None and expected_version != current["metadata"].get(
            "resourceVersion"
        ):
            raise Conflict.modified(kind.plural, key[1], kind.group)
        return self._commit(kind, key, obj, "MODIFIED", current)

    def remove(self, kind: Kind, namespace: str, name: str) -> Obj:
        """Delete now (the last step of graceful deletion); emits DELETED."""
        bucket = self._objects.get(kind.plural, {})
        current = bucket.get((namespace, name))
        if current is None:
            raise NotFound.object(kind.plural, name, kind.group)
        return self._commit(kind, (namespace, name), current, "DELETED", current)

    def _commit(
        self, kind: Kind, key: Key, obj: Obj, event_type: str, previous: Obj | None = None
    ) -> Obj:
        self._revision += 1
        obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self._revision)}}
        bucket = self._objects.setdefault(kind.plural, {})
        if event_type == "DELETED":
            del bucket[key]
        else:
            bucket[key] = obj
        event = Event(event_type, kind, obj, self._revision, previous)
        self._history.append(event)
        if len(self._history) > self._history_size:
            self._compacted = self._history.popleft().revision
        for watcher in list(self._watchers):
            if watcher.closed:
                self._watchers.discard(watcher)
            else:
                seen = watcher.sees(event)
                if seen is not None:
                    watcher.offer(event.line(seen))
        for listener in self._listeners:
            listener(event)
        return obj

    # --- watching --------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` synchronously on every write (the simulator's controllers)."""
        self._listeners.append(listener)

    def watch(
        self,
        kind: Kind,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        since: int | None,
    ) -> Watcher:
        """Open a watch.

        `since=None` is "start at most recent" with the current state first as synthetic
        ADDED events (api-concepts.md, "Semantics for watch"); otherwise replay every
        event after `since`, or raise 410 Gone if history no longer reaches back to it.
        """
        watcher = Watcher(kind, namespace, labels, fields)
        if since is None:
            for obj in self.list(kind, namespace, labels, fields):
                watcher.offer(Event("ADDED", kind, obj, 0).line())
        else:
            if since < self._compacted:
                raise Gone(f"too old resource version: {since} ({self._compacted + 1})")
            for event in self._history:
                seen = watcher.sees(event) if event.revision > since else None
                if seen is not None:
                    watcher.offer(event.line(seen))
        self._watchers.add(watcher)
        return watcher

    def close_watchers(self) -> None:
        for watcher in list(self._watchers):
            watcher.close()
        self._watchers.clear()
