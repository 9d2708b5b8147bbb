"""An orchestrator app served over real HTTP (uvicorn, in this process) and a small
server-sent-events reader, for the feed's tests: `httpx.ASGITransport` buffers a whole
response, so an endless event stream needs a real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from orchestrator.app import create_app
from orchestrator.feed.server import FeedAwareServer
from orchestrator.settings import OrchestratorSettings
from tests.orchestrator.conftest import free_port
from tests.waiting import eventually


@dataclass
class Served:
    app: FastAPI
    base_url: str
    server: FeedAwareServer


@asynccontextmanager
async def served(settings: OrchestratorSettings) -> AsyncIterator[Served]:
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = FeedAwareServer(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), 60, "uvicorn started")
        if task.done():
            task.result()
        yield Served(app, f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)


@dataclass
class Event:
    kind: str
    id: str | None
    data: Any


@dataclass
class EventReader:
    """Reads one open stream: events in order, and the comments and `retry` seen."""

    lines: AsyncIterator[str]
    retry_ms: int | None = None
    comments: list[str] = field(default_factory=list)
    #: The type of every event read so far, in order.
    kinds: list[str] = field(default_factory=list)

    async def next(self, timeout_s: float = 30) -> Event:
        async with asyncio.timeout(timeout_s):
            return await self._next()

    async def _next(self) -> Event:
        kind, event_id, data = "message", None, []
        async for line in self.lines:
            if line == "":
                if data:
                    self.kinds.append(kind)
                    return Event(kind, event_id, json.loads("\n".join(data)))
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                self.comments.append(value)
            elif name == "retry":
                self.retry_ms = int(value)
            elif name == "event":
                kind = value
            elif name == "id":
                event_id = value
            elif name == "data":
                data.append(value)
        raise EOFError("the stream ended")

    async def until(self, kind: str, timeout_s: float = 30, **match: Any) -> Event:
        """The next event of `kind` whose data has the `match`ing fields."""
        while True:
            event = await self.next(timeout_s)
            if event.kind == kind and all(event.data.get(k) == v for k, v in match.items()):
                return event


@asynccontextmanager
async def stream(
    base_url: str, token: str, last_event_id: str | None = None
) -> AsyncIterator[EventReader]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(60, read=None)) as client,
        client.stream("GET", "/v1/events", headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response.aiter_lines())
