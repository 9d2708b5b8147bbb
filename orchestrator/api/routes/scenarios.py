"""`/v1/scenarios`: the catalogue sessions choose from, and the scenario library behind
it: read a document, get the format's JSON Schema, and (instructors and operators)
upload or replace a document after it validates."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from ixstream.scenario import MAX_SCENARIO_BYTES, json_schema
from ixstream.scenario import Scenario as ScenarioDocument
from orchestrator.api.bodies import read_limited
from orchestrator.api.deps import Context, CurrentPrincipal, require_roles
from orchestrator.api.problems import problem_responses
from orchestrator.api.schemas import ScenarioOut
from orchestrator.audit import AuditAction
from orchestrator.errors import BodyTooLargeError, ScenarioTooLargeError, UnsupportedMediaTypeError
from orchestrator.identity import Principal, Role
from orchestrator.scenarios.library import ScenarioLibrary

router = APIRouter(prefix="/v1", tags=["scenarios"], responses=problem_responses(401, 403))

ScenarioId = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="The scenario's id.")
]
#: YAML's registered media type (RFC 9512), and the unregistered ones tools still send.
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})


def library_of(context: Context) -> ScenarioLibrary:
    library = context.service.catalogue.library
    assert library is not None, "the app always builds a library"
    return library


@router.get("/scenarios", response_model=list[ScenarioOut])
async def list_scenarios(principal: CurrentPrincipal, context: Context) -> list[ScenarioOut]:
    """The scenarios sessions can ask for: built-ins, scenes, then library documents."""
    return [
        ScenarioOut(
            name=s.name,
            source=s.source,
            title=s.title,
            description=s.description,
            domain=s.domain,
            expected_duration_min=s.expected_duration_min,
        )
        for s in context.service.catalogue.all()
    ]


@router.get("/scenarios/schema", response_model=dict[str, Any])
async def scenario_schema(principal: CurrentPrincipal) -> dict[str, Any]:
    """The scenario format's JSON Schema (draft 2020-12), for editors to validate and
    autocomplete with. References between ids are checked on upload, not by it."""
    return json_schema()


@router.get(
    "/scenarios/{scenario_id}",
    response_model=ScenarioDocument,
    responses=problem_responses(404, 422),
)
async def get_scenario(
    scenario_id: ScenarioId, principal: CurrentPrincipal, context: Context
) -> ScenarioDocument:
    """One scenario document from the library, parsed, as JSON."""
    return library_of(context).get(scenario_id)


@router.put(
    "/scenarios/{scenario_id}",
    response_model=ScenarioDocument,
    responses={
        201: {"model": ScenarioDocument, "description": "Created"},
        **problem_responses(413, 415, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
)
async def put_scenario(
    scenario_id: ScenarioId,
    request: Request,
    response: Response,
    context: Context,
    principal: Annotated[Principal, require_roles(Role.INSTRUCTOR, Role.OPERATOR)],
) -> ScenarioDocument:
    """Upload (201) or replace (200) a scenario document, `Content-Type:
    application/yaml`. It is validated first: a broken one is refused with 422 naming
    the line and field of each problem, and the stored one is left as it was."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in YAML_TYPES:
        raise UnsupportedMediaTypeError(
            f"send the scenario as `Content-Type: application/yaml`, not {media_type!r}"
        )
    try:
        document = await read_limited(request, MAX_SCENARIO_BYTES, "a scenario document")
    except BodyTooLargeError as exc:
        raise ScenarioTooLargeError(exc.detail) from None
    # Validation and an fsync'd write: off the event loop.
    scenario, created = await asyncio.to_thread(library_of(context).put, scenario_id, document)
    context.audit.record(
        AuditAction.SCENARIO_PUT,
        actor=principal.subject,
        session_id=None,
        scenario=scenario_id,
        created=created,
        bytes=len(document),
    )
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = f"/v1/scenarios/{scenario_id}"
    return scenario
