"""The orchestrator's control API on a streamer: set the session up, steer its scenario,
pull its timeline, collect its recording (docs/streamer-contract.md, "Control").

Only a token with the `orchestrator` role, for this session, opens these routes: the
orchestrator decides who may do what (an instructor fires events, a trainee cannot),
audits it, and then tells the streamer, which checks only that the orchestrator asks.
Errors are JSON `{"detail": ...}` with a precise message, as FastAPI's own are.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from streamer.api.deps import Service, require_orchestrator
from streamer.record import Recorder
from streamer.scenario.errors import NotRunningError, ScenarioRuntimeError, UnknownEventError
from streamer.scenario_host import MAX_PULL, ScenarioHost
from streamer.service import StreamerService
from streamer.session_setup import SessionSetup, SetupError

Subject = Annotated[str, Field(min_length=1, max_length=200)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Subject = Field(description="Who asked (the orchestrator's principal), for the log.")


class FireEvent(_Command):
    command: Literal["event"]
    event: str = Field(min_length=1, max_length=63)


class Pause(_Command):
    command: Literal["pause"]


class Resume(_Command):
    command: Literal["resume"]


class End(_Command):
    command: Literal["end"]
    outcome: Literal["success", "partial", "failure"]
    message: str | None = Field(default=None, max_length=500)


#: One instructor command, as the orchestrator forwards it (flat: `{"command": ..., ...}`).
Command = Annotated[FireEvent | Pause | Resume | End, Field(discriminator="command")]


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


router = APIRouter(prefix="/v1", dependencies=[Depends(require_orchestrator)])


def _host_of(service: StreamerService) -> ScenarioHost:
    host = service.scenario
    if host is None:
        raise SetupError(404, "no scenario loaded in this session")
    return host


@router.get("/status")
async def status(service: Service) -> dict[str, object]:
    """The session's state: who is connected, frames sent, scenario, recording. What the
    orchestrator polls, and for it alone: it names the session and whether the trainee
    is there."""
    return asdict(service.status())


@router.put("/scenario")
async def put_scenario(body: SessionSetup, service: Service) -> JSONResponse:
    """Loads the session's scenario and switches recording on (before the trainee joins)."""
    try:
        await service.setup(body)
    except SetupError as exc:
        return _error(exc.status, exc.detail)
    scenario = body.scenario.id if body.scenario else None
    return JSONResponse({"scenario": scenario, "record": body.record})


@router.get("/scenario")
async def get_scenario(service: Service) -> JSONResponse:
    try:
        return JSONResponse(_host_of(service).snapshot())
    except SetupError as exc:
        return _error(exc.status, exc.detail)


@router.post("/scenario/commands")
async def command(body: Annotated[Command, Body()], service: Service) -> JSONResponse:
    """An instructor's command: fire a named event, pause, resume, or end."""
    try:
        host = _host_of(service)
        if isinstance(body, FireEvent):
            snapshot = host.instructor_event(body.event, body.by)
        elif isinstance(body, Pause):
            snapshot = host.pause(body.by)
        elif isinstance(body, Resume):
            snapshot = host.resume(body.by)
        else:
            snapshot = host.end(body.outcome, body.message, body.by)
    except SetupError as exc:
        return _error(exc.status, exc.detail)
    except UnknownEventError as exc:
        return _error(404, str(exc))
    except NotRunningError as exc:
        return _error(409, str(exc))
    except ScenarioRuntimeError as exc:
        return _error(422, str(exc))
    return JSONResponse(snapshot)


@router.get("/scenario/log")
async def timeline(
    service: Service,
    after: Annotated[int, Query(ge=-1, description="Entries with a larger seq.")] = -1,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL)] = MAX_PULL,
) -> JSONResponse:
    """The run's timeline from `after` on: what the after-action log is made of."""
    try:
        entries, last = _host_of(service).entries_after(after, limit)
    except SetupError as exc:
        return _error(exc.status, exc.detail)
    return JSONResponse(
        {"entries": entries, "next": entries[-1]["seq"] if entries else after, "last": last}
    )


@router.post("/recording/stop")
async def stop_recording(service: Service) -> JSONResponse:
    try:
        return JSONResponse(await service.stop_recording())
    except SetupError as exc:
        return _error(exc.status, exc.detail)


@router.get("/recording", response_model=None)
async def recording(service: Service) -> FileResponse | JSONResponse:
    rec = service.recording
    if rec is None:
        return _error(404, "this session is not being recorded")
    if not rec.stopped:
        return _error(409, "still recording: POST /v1/recording/stop first")
    if not rec.path.is_file():
        return _error(404, "the recording holds no frames (no keyframe was ever encoded)")
    media = Recorder.media_type_for(service.settings.codec)
    return FileResponse(rec.path, media_type=media, filename=rec.path.name)
