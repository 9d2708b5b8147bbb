"""What instructors do with a session's scenario: see where it stands, steer it, and
download its after-action log and recording (issue 6, contract C5).

Commands are forwarded to the session's streamer with `by` = the caller and audited
(`scenario.command`) whether they are refused, fail or succeed. The after-action log
and the recording are files the orchestrator keeps, so both download after the session
ended (and after it was forgotten), until the retention sweep deletes the log.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from fastapi.responses import FileResponse

from orchestrator.api.deps import Context, CurrentPrincipal, Service, require_roles
from orchestrator.api.problems import problem_responses
from orchestrator.api.routes.sessions import SessionId
from orchestrator.api.schemas import (
    EndCommand,
    EventCommand,
    PauseCommand,
    ResumeCommand,
    ScenarioCommandIn,
)
from orchestrator.errors import SessionNotFoundError
from orchestrator.identity import Principal, Role
from orchestrator.scenarios.link import ScenarioCommand

router = APIRouter(
    prefix="/v1/sessions", tags=["instructor"], responses=problem_responses(401, 403)
)

NDJSON = "application/x-ndjson"
Instructor = Annotated[Principal, require_roles(Role.INSTRUCTOR, Role.OPERATOR)]


@router.get(
    "/{session_id}/scenario",
    response_model=dict[str, Any],
    responses=problem_responses(404, 409, 410, 502),
)
async def scenario_snapshot(
    session_id: SessionId, principal: CurrentPrincipal, service: Service
) -> dict[str, Any]:
    """Where the session's scenario stands (instructors, operators and the session's
    owner): `scenario`, `title`, `started`, `paused`, `t`, `outcome`, `message`,
    `fired`, `caption`, `fog_density`, `instructor_events` (`id`, `label`). 404 when the
    session runs no scenario document."""
    return await service.scenario_snapshot(principal, session_id)


@router.post(
    "/{session_id}/scenario/commands",
    response_model=dict[str, Any],
    responses=problem_responses(404, 409, 410, 422, 502),
)
async def scenario_command(
    session_id: SessionId,
    principal: CurrentPrincipal,
    service: Service,
    context: Context,
    body: Annotated[ScenarioCommandIn, Body()],
) -> dict[str, Any]:
    """Steer the running scenario (instructors and operators): fire an instructor
    event, pause, resume, or end it with an outcome, which also ends the session.
    Returns the scenario's snapshot after the command."""
    snapshot = await service.scenario_command(principal, session_id, command_of(body))
    context.feed.scenario_changed(service.get_any(session_id), snapshot)  # the live feed
    return snapshot


def command_of(body: EventCommand | PauseCommand | ResumeCommand | EndCommand) -> ScenarioCommand:
    if isinstance(body, EventCommand):
        return ScenarioCommand("event", event=body.event)
    if isinstance(body, EndCommand):
        return ScenarioCommand("end", outcome=body.outcome, message=body.message)
    return ScenarioCommand(body.command)


@router.get(
    "/{session_id}/aar",
    response_class=Response,
    responses={
        200: {
            "description": "One log entry (JSON) a line, in `seq` order.",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 422),
    },
)
async def after_action_log(
    session_id: SessionId, principal: Instructor, service: Service
) -> Response:
    """The session's after-action log (instructors and operators), live or after the
    session ended: the scenario's log entries (`seq`, `at`, `t`, `kind`, ...)."""
    with contextlib.suppress(SessionNotFoundError):
        await service.link.pull_all([service.get_any(session_id)])  # up to now, if it runs
    path = service.link.aar.existing(session_id)
    # Read whole, not streamed: the poll loop may append while this is sent, and a body
    # longer than its declared length breaks the response. Whole lines only.
    data = await asyncio.to_thread(path.read_bytes)
    return Response(
        data[: data.rfind(b"\n") + 1],
        media_type=NDJSON,
        headers={"Content-Disposition": f'attachment; filename="{session_id}-aar.jsonl"'},
    )


@router.get(
    "/{session_id}/recording",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The session's recording.",
            "content": {
                "video/mp4": {"schema": {"type": "string", "format": "binary"}},
                "video/webm": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **problem_responses(404, 422),
    },
)
async def recording(session_id: SessionId, principal: Instructor, service: Service) -> FileResponse:
    """The session's recording (instructors and operators), once the session ended;
    404 when it was not recorded."""
    path, media_type = service.link.recordings.existing(session_id)
    return FileResponse(path, media_type=media_type, filename=path.name)
