"""A Learning Record Store endpoint that runs in the test, over real HTTP on loopback.

It does what an LRS does with `POST /statements` (xAPI 1.0.3 Part Three §2.1.2) and
checks what a strict one checks: the `X-Experience-API-Version` header, the
credentials, and every statement against ralph's xAPI models (`ralph-malph`, a real
LRS's validator, written by others). A statement whose id it already has is not
stored twice: the same statement again is counted in `resent`, a different one gets
409 (Part Three §2.1.1). A test can script the next answers (429 with `Retry-After`,
a 400) to see what the sender makes of them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.waiting import eventually

PATH = "/xapi"


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


class InTestLRS:
    def __init__(self, authorization: str) -> None:
        self.authorization = authorization
        #: Stored statements by id, in arrival order.
        self.statements: dict[str, dict[str, Any]] = {}
        #: Every POST that reached us (its statement ids), refused or not.
        self.attempts: list[list[str]] = []
        self.resent = 0
        self.refusals: list[str] = []
        self.script: list[Scripted] = []
        #: Set, a stored statement's answer waits for it: the moment when the LRS has
        #: the statement and the sender does not yet know.
        self.answer_held: asyncio.Event | None = None
        self.app = Starlette(routes=[Route(f"{PATH}/statements", self._post, methods=["POST"])])

    def verbs(self) -> list[str]:
        return [s["verb"]["id"].rsplit("/", 1)[-1] for s in self.statements.values()]

    async def _post(self, request: Request) -> Response:
        body = await request.json()
        batch = body if isinstance(body, list) else [body]
        self.attempts.append([str(s.get("id")) for s in batch if isinstance(s, dict)])
        if self.script:
            scripted = self.script.pop(0)
            return Response(scripted.body, scripted.status, headers=scripted.headers)
        if request.headers.get("X-Experience-API-Version") != "1.0.3":
            return self._refuse(400, "X-Experience-API-Version must be 1.0.3")
        if request.headers.get("Authorization") != self.authorization:
            return self._refuse(401, "bad credentials")
        for statement in batch:
            try:
                BaseXapiStatement.model_validate(statement)
            except ValidationError as exc:
                return self._refuse(400, str(exc))
        for statement in batch:
            known = self.statements.get(statement["id"])
            if known is not None and known != statement:
                return self._refuse(409, f"statement {statement['id']} differs from the stored one")
            if known is not None:
                self.resent += 1
            self.statements[statement["id"]] = statement
        if self.answer_held is not None:
            await self.answer_held.wait()
        return JSONResponse([s["id"] for s in batch])

    def _refuse(self, status: int, why: str) -> Response:
        self.refusals.append(why)
        return JSONResponse({"error": why}, status)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(lrs: InTestLRS, port: int) -> AsyncIterator[str]:
    """Serve `lrs` on `127.0.0.1:port` in this event loop; yields its xAPI endpoint."""
    server = uvicorn.Server(
        uvicorn.Config(lrs.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), 20, "the LRS started")
        assert not task.done(), "the LRS could not listen"
        yield f"http://127.0.0.1:{port}{PATH}"
    finally:
        server.should_exit = True
        await task
