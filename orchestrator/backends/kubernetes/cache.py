"""A list-then-watch cache of the backend's pods: client-go's informer, reduced.

`start()` lists (the returned `resourceVersion` is the cache's starting point) and
starts a watch from there; each event updates the cache and wakes whoever waits on that
object. When the server ends the stream (its `timeoutSeconds`), the watch resumes from
the last version seen (bookmarks keep it fresh while nothing changes); when the server
says 410 Gone, the version is too old to resume from, so the cache lists again and
reconciles (api-concepts.md, "Efficient detection of changes"). Network errors back
off and retry. A watch that goes silent (no event, no bookmark, and no end of stream
within `watch_idle_s`: a connection dropped without anyone noticing) raises a read
timeout; the cache then lists again, since what it missed is unknown. The watch task
belongs to the informer: `close()` cancels and awaits it.

Nothing is persisted: an orchestrator that restarts rebuilds everything from one list.
A `transform` keeps only what the caller reads of each object (client-go's informer
transforms do the same), which bounds the cache's memory with thousands of pods.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp
import structlog

from orchestrator.backends.kubernetes.client import KubeApiError, KubeClient

log = structlog.get_logger("orchestrator.backends.kubernetes")

Obj = dict[str, Any]
MAX_BACKOFF_S = 5.0
RESUME_PAUSE_S = 0.05


class Informer:
    def __init__(
        self,
        client: KubeClient,
        selector: str,
        on_event: Callable[[str, Obj], None] | None = None,
        on_relist: Callable[[], None] | None = None,
        transform: Callable[[Obj], Obj] | None = None,
    ) -> None:
        self._client = client
        self._selector = selector
        self._on_event = on_event
        self._on_relist = on_relist
        self._transform = transform
        self.objects: dict[str, Obj] = {}
        self._version = ""
        self._waiters: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self.relists = 0

    async def start(self) -> None:
        await self._list()
        self._task = asyncio.get_running_loop().create_task(
            self._watch_forever(), name="informer:pods"
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # --- waiting for changes ----------------------------------------------------------

    async def changed(self, name: str, timeout_s: float) -> bool:
        """Wait until object `name` changes (or is deleted); False on timeout."""
        event = self._waiters.get(name)
        if event is None:
            event = self._waiters[name] = asyncio.Event()
        try:
            async with asyncio.timeout(timeout_s):
                await event.wait()
        except TimeoutError:
            return False
        return True

    def _notify(self, name: str) -> None:
        event = self._waiters.pop(name, None)
        if event is not None:
            event.set()

    def add_if_absent(self, obj: Obj) -> None:
        """Record an object we just created, unless the watch already brought it.

        Responses to our own writes are never applied over the cache: the watch may
        already have delivered newer versions, and resourceVersions are opaque, not
        to be compared (api-concepts.md, "Resource versions"). A creation is safe to
        record when the cache has no such object yet, and lets a caller wait on it.
        """
        if obj["metadata"]["name"] not in self.objects:
            self.apply("ADDED", obj)

    def apply(self, event_type: str, obj: Obj) -> None:
        """Apply one event from the list or the watch, in the server's order."""
        if self._transform is not None:
            obj = self._transform(obj)
        name = obj["metadata"]["name"]
        if event_type == "DELETED":
            self.objects.pop(name, None)
        else:
            self.objects[name] = obj
        if self._on_event is not None:
            self._on_event(event_type, obj)
        self._notify(name)

    # --- list and watch ---------------------------------------------------------------

    async def _list(self) -> None:
        listing = await self._client.list_pods(self._selector)
        fresh = {item["metadata"]["name"]: item for item in listing.get("items") or []}
        for name in [n for n in self.objects if n not in fresh]:
            self.apply("DELETED", self.objects[name])
        for item in fresh.values():
            self.apply(
                "ADDED" if item["metadata"]["name"] not in self.objects else "MODIFIED", item
            )
        self._version = str(listing["metadata"]["resourceVersion"])

    async def _watch_forever(self) -> None:
        failures = 0
        while True:
            try:
                async for event in self._client.watch_pods(self._selector, self._version):
                    failures = 0
                    obj = event["object"]
                    self._version = str(obj["metadata"]["resourceVersion"])
                    if event["type"] != "BOOKMARK":
                        self.apply(event["type"], obj)
                # The server ended the stream (its timeout): resume, after a breath so a
                # server that ends every stream at once is not hammered.
                await asyncio.sleep(RESUME_PAUSE_S)
            except KubeApiError as exc:
                if exc.status == 410:
                    log.info("informer.relist", reason=exc.message)
                else:  # 401/403/429/5xx: keep trying, from a fresh list, and say so loudly
                    failures += 1
                    log.error("informer.watch_refused", error=str(exc))
                    # A busy server's Retry-After (APF) is the wait it asked for.
                    backoff = min(MAX_BACKOFF_S, 0.1 * 2**failures)
                    await asyncio.sleep(exc.retry_after_s or backoff)
                await self._relist()
            except TimeoutError:
                # Neither an event nor a bookmark within the idle window, and the server
                # did not end the stream by its own timeout: the connection is presumed
                # dead (dropped without a FIN or RST). What it missed is unknown: list.
                log.warning("informer.watch_silent", idle_s=self._client.watch_idle_s)
                await self._relist()
            except (aiohttp.ClientError, ConnectionError, ValueError) as exc:
                failures += 1
                delay = min(MAX_BACKOFF_S, 0.1 * 2**failures)
                log.warning("informer.watch_failed", error=repr(exc), retry_in_s=delay)
                await asyncio.sleep(delay)

    async def _relist(self) -> None:
        self.relists += 1
        if self._on_relist is not None:
            self._on_relist()
        await self._relist_with_backoff()

    async def _relist_with_backoff(self) -> None:
        failures = 0
        while True:
            try:
                await self._list()
                return
            except (aiohttp.ClientError, TimeoutError, ConnectionError, KubeApiError) as exc:
                failures += 1
                delay = min(MAX_BACKOFF_S, 0.1 * 2**failures)
                log.warning("informer.list_failed", error=repr(exc))
                await asyncio.sleep(delay)
