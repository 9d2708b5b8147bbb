"""The orchestrator's client for a streamer's control API (the lead's contract C4).

Every call carries a short-lived token signed with the streamer's own key, role
`orchestrator` and `sid` = the session (`orchestrator.tokens.mint_control_token`): the
same key that guards the session's WHEP, so nobody else can steer it. The streamer's
refusals become named errors carrying its own message (`orchestrator.errors`: 404 →
`StreamerNothingThereError`, 409 → `StreamerConflictError`, 422 →
`StreamerRejectedError`; no answer or a malformed one → `StreamerUnreachableError`),
which the API edge turns into problem documents.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from orchestrator.backends.base import Streamer
from orchestrator.errors import (
    StreamerConflictError,
    StreamerControlError,
    StreamerNothingThereError,
    StreamerRejectedError,
    StreamerUnreachableError,
)
from orchestrator.scenarios.recordings import MEDIA_TYPES
from orchestrator.tokens import mint_control_token

#: Whole-call limit for small control calls (configure, command, snapshot), seconds.
CONTROL_TIMEOUT_S = 10.0
#: The after-action pull runs in the poll loop: it must never hold it up for long.
LOG_TIMEOUT_S = 2.0
#: A recording is streamed to disk; this bounds each read, not the whole download.
DOWNLOAD_TIMEOUT_S = 30.0
#: `after` for the whole log (C4: seq starts at 0).
LOG_START = -1


@dataclass(frozen=True, slots=True)
class ControlTarget:
    """Where a session's streamer listens, and the key and session its tokens name."""

    session_id: str
    base_url: str
    key: str

    @classmethod
    def of(cls, session_id: str, streamer: Streamer | None) -> ControlTarget:
        if streamer is None or streamer.base_url is None:
            raise StreamerUnreachableError(f"session {session_id} has no listening streamer")
        return cls(session_id, streamer.base_url, streamer.key)


@dataclass(frozen=True, slots=True)
class LogPage:
    """One `GET /v1/scenario/log` answer: entries with `seq` > the cursor, in order."""

    entries: list[dict[str, Any]]
    next: int


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    media_type: str
    size_bytes: int


def error_for(status: int, message: str) -> StreamerControlError:
    """The named error for a streamer's refusal (C4's status codes)."""
    said = f"the streamer says: {message}"
    if status == 404:
        return StreamerNothingThereError(said)
    if status == 409:
        return StreamerConflictError(said)
    if status == 422:
        return StreamerRejectedError(said)
    return StreamerUnreachableError(f"the streamer answered {status}: {message}")


def streamer_message(response: httpx.Response) -> str:
    """The reason a streamer gave: a JSON `detail` (string or FastAPI's list of
    validation errors) or the plain-text body."""
    text = response.text.strip()
    try:
        body = response.json()
    except ValueError:
        return text[:500] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return text[:500] or response.reason_phrase


class StreamerControl:
    """Calls C4 endpoints on session streamers over one pooled HTTP client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def configure(
        self, target: ControlTarget, scenario: dict[str, Any] | None, record: bool
    ) -> None:
        """`PUT /v1/scenario`: load the scenario document (or none) and switch recording."""
        await self._json(target, "PUT", "/v1/scenario", {"scenario": scenario, "record": record})

    async def snapshot(self, target: ControlTarget) -> dict[str, Any]:
        """`GET /v1/scenario`: where the running scenario stands (C2's snapshot)."""
        return await self._json(target, "GET", "/v1/scenario")

    async def command(self, target: ControlTarget, command: dict[str, Any]) -> dict[str, Any]:
        """`POST /v1/scenario/commands`; returns the snapshot after it."""
        return await self._json(target, "POST", "/v1/scenario/commands", command)

    async def log(self, target: ControlTarget, after: int) -> LogPage:
        """`GET /v1/scenario/log?after=`: the entries after `after`, at most a page."""
        body = await self._json(
            target, "GET", f"/v1/scenario/log?after={after}", timeout_s=LOG_TIMEOUT_S
        )
        entries, last = body.get("entries"), body.get("next")
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("seq"), int) for e in entries
        ):
            raise StreamerUnreachableError("the streamer's log page has no list of entries")
        return LogPage(entries, last if isinstance(last, int) else after)

    async def stop_recording(self, target: ControlTarget) -> dict[str, Any]:
        """`POST /v1/recording/stop`: finalise the file (idempotent)."""
        return await self._json(target, "POST", "/v1/recording/stop")

    async def download_recording(self, target: ControlTarget, stem: Path) -> Download:
        """`GET /v1/recording` streamed to `stem` + `.mp4` or `.webm` (from its media
        type), through a temporary file, so a broken download never looks complete."""
        partial = stem.with_name(stem.name + ".part")
        partial.parent.mkdir(parents=True, exist_ok=True)
        try:
            async with self._http.stream(
                "GET",
                target.base_url + "/v1/recording",
                headers=self._headers(target),
                timeout=DOWNLOAD_TIMEOUT_S,
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise error_for(response.status_code, streamer_message(response))
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                size = 0
                with partial.open("wb") as file:
                    async for chunk in response.aiter_bytes():
                        file.write(chunk)
                        size += len(chunk)
        except httpx.HTTPError as exc:
            partial.unlink(missing_ok=True)
            raise StreamerUnreachableError(f"the recording download failed: {exc!r}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        suffix = next((s for s, kind in MEDIA_TYPES.items() if kind == media_type), ".mp4")
        path = stem.with_name(stem.name + suffix)
        os.replace(partial, path)
        return Download(path, media_type or "video/mp4", size)

    async def _json(
        self,
        target: ControlTarget,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        timeout_s: float = CONTROL_TIMEOUT_S,
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(
                method,
                target.base_url + path,
                json=body,
                headers=self._headers(target),
                timeout=timeout_s,
            )
        except httpx.HTTPError as exc:
            raise StreamerUnreachableError(
                f"the session's streamer could not be reached: {exc!r}"
            ) from exc
        if response.status_code != 200:
            raise error_for(response.status_code, streamer_message(response))
        try:
            answer = response.json()
        except ValueError as exc:
            raise StreamerUnreachableError(f"the streamer answered {path} with no JSON") from exc
        if not isinstance(answer, dict):
            raise StreamerUnreachableError(f"the streamer answered {path} with no JSON object")
        return answer

    def _headers(self, target: ControlTarget) -> dict[str, str]:
        token = mint_control_token(
            target.key,
            session_id=target.session_id,
            subject="system:orchestrator",
            # The streamer checks `exp` against its own wall clock, never a test's.
            now=time.time(),
        )
        return {"Authorization": f"Bearer {token}"}
