"""`/v1/sessions`: create, read, list, end, spectate; plus the (operator-only) warm pool
view. The scenario catalogue and library are `routes/scenarios.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from orchestrator.api.context import AppContext
from orchestrator.api.deps import Context, CurrentPrincipal, Service, public_base_url, require_roles
from orchestrator.api.problems import problem_responses
from orchestrator.api.schemas import (
    IceServerOut,
    PoolStatus,
    SessionCreate,
    SessionList,
    SessionOut,
    SpectatorJoin,
    TransitionOut,
    utc,
)
from orchestrator.ice.issuer import IceServer
from orchestrator.identity import Principal, Role
from orchestrator.sessions.models import Session, SessionSpec
from orchestrator.sessions.service import SessionService
from orchestrator.sessions.states import SessionState
from orchestrator.tokens import IssuedToken

router = APIRouter(prefix="/v1", responses=problem_responses(401, 403))

SessionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The session's id.")]


def whep_url(request: Request, context: AppContext, session_id: str) -> str:
    return f"{public_base_url(request, context)}/v1/sessions/{session_id}/whep"


def shown_state(session: Session, service: SessionService) -> SessionState:
    """The state callers see: `pending` while the session's streamer waits for a node,
    though internally it is `starting` (it already holds its capacity slot)."""
    if service.waiting_for_node(session) is not None:
        return SessionState.PENDING
    return session.state


def present(
    session: Session,
    principal: Principal,
    service: SessionService,
    request: Request,
    context: AppContext,
) -> SessionOut:
    issued = service.gate.owner_token(principal, session)
    # ICE servers travel with the token: whoever may signal gets fresh credentials.
    ice = context.ice.servers_for(session.id) if issued else []
    return session_out(session, service, whep_url(request, context, session.id), issued, ice)


def session_out(
    session: Session,
    service: SessionService,
    whep: str,
    issued: IssuedToken | None,
    ice: Sequence[IceServer] = (),
) -> SessionOut:
    """A session as the API shows it; `issued` is the owner's token (None for others,
    and in the event feed, which many callers share)."""
    created = utc(session.created_at)
    updated = utc(session.updated_at)
    assert created is not None
    assert updated is not None
    waiting = service.waiting_for_node(session)
    return SessionOut(
        id=session.id,
        state=shown_state(session, service),
        reason=session.lifecycle.reason,
        detail=f"waiting for a node: {waiting}"
        if waiting is not None
        else session.lifecycle.detail,
        owner=session.owner,
        scenario=session.spec.scenario,
        client=session.spec.client,
        width=session.profile.width,
        height=session.profile.height,
        fps=session.profile.fps,
        codec=session.profile.codec,
        record=session.spec.record,
        created_at=created,
        updated_at=updated,
        ready_at=utc(session.ready_at),
        first_frame_at=utc(session.first_frame_at),
        queue_position=service.admission.position(session.id),
        start=session.start_kind,
        viewers=session.viewers,
        frames_sent=session.frames_sent,
        measured_fps=session.measured_fps,
        whep_url=whep,
        token=issued.token if issued else None,
        token_expires_at=utc(issued.expires_at) if issued else None,
        ice_servers=IceServerOut.listed(ice),
        transitions=[
            TransitionOut(state=t.target, at=utc(t.at) or created, reason=t.reason, detail=t.detail)
            for t in session.lifecycle.history
        ],
    )


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOut,
    tags=["sessions"],
    responses=problem_responses(422, 429, 503),
)
async def create_session(
    body: SessionCreate,
    principal: CurrentPrincipal,
    service: Service,
    context: Context,
    request: Request,
    response: Response,
    wait: Annotated[
        bool,
        Query(
            description="When every slot is taken: queue (true, the session is `pending` "
            "with a `queue_position`) or refuse with 429 and `Retry-After` (false)."
        ),
    ] = False,
) -> SessionOut:
    """Create a session: claim a warm streamer (`ready` at once) or start one (`starting`).

    The response carries the session's `whep_url` and, once it has a streamer, the
    owner's session `token`; a queued session gets its token from `GET` once it starts.
    """
    defaults = service.default_spec()
    spec = SessionSpec(
        scenario=body.scenario or defaults.scenario,
        client=body.client,
        width=body.width or defaults.width,
        height=body.height or defaults.height,
        fps=body.fps or defaults.fps,
        codec=body.codec,
        record=body.record,
    )
    session = await service.create(principal, spec, wait=wait)
    response.headers["Location"] = f"/v1/sessions/{session.id}"
    return present(session, principal, service, request, context)


@router.get(
    "/sessions", response_model=SessionList, tags=["sessions"], responses=problem_responses(422)
)
async def list_sessions(
    principal: CurrentPrincipal,
    service: Service,
    context: Context,
    request: Request,
    state: Annotated[
        list[SessionState] | None, Query(description="Only sessions in these states.")
    ] = None,
) -> SessionList:
    """List sessions: a trainee sees their own, instructors and operators see all."""
    # Filtered on the state as presented: a session waiting for a GPU reads `pending`.
    wanted = set(state or ())
    visible = service.sessions.visible(principal)
    sessions = [s for s in visible if not wanted or shown_state(s, service) in wanted]
    items = [present(s, principal, service, request, context) for s in sessions]
    return SessionList(items=items, count=len(items))


@router.get(
    "/sessions/{session_id}",
    response_model=SessionOut,
    tags=["sessions"],
    responses=problem_responses(404, 422),
)
async def get_session(
    session_id: SessionId,
    principal: CurrentPrincipal,
    service: Service,
    context: Context,
    request: Request,
) -> SessionOut:
    """Read one session, with its current queue position while pending."""
    session = service.sessions.get(principal, session_id)
    return present(session, principal, service, request, context)


@router.delete(
    "/sessions/{session_id}",
    status_code=202,
    response_model=SessionOut,
    tags=["sessions"],
    responses=problem_responses(404, 422),
)
async def end_session(
    session_id: SessionId,
    principal: CurrentPrincipal,
    service: Service,
    context: Context,
    request: Request,
) -> SessionOut:
    """End a session (its owner, or an operator). Returns at once in `ending` (or
    `ended` if it had no streamer); the streamer is stopped in the background."""
    session = await service.end(principal, session_id)
    return present(session, principal, service, request, context)


@router.post(
    "/sessions/{session_id}/spectators",
    status_code=201,
    response_model=SpectatorJoin,
    tags=["sessions"],
    responses=problem_responses(404, 409, 410, 422),
)
async def join_as_spectator(
    session_id: SessionId,
    principal: CurrentPrincipal,
    service: Service,
    context: Context,
    request: Request,
) -> SpectatorJoin:
    """Get a view-only token for a session you may see (waits out a `starting` one)."""
    issued = await service.gate.spectate(principal, session_id)
    expires = utc(issued.expires_at)
    assert expires is not None
    return SpectatorJoin(
        session_id=session_id,
        token=issued.token,
        expires_at=expires,
        whep_url=whep_url(request, context, session_id),
        ice_servers=IceServerOut.listed(context.ice.servers_for(session_id)),
    )


@router.get(
    "/pool",
    response_model=PoolStatus,
    tags=["operations"],
    dependencies=[require_roles(Role.OPERATOR)],
)
async def pool_status(service: Service) -> PoolStatus:
    """The warm pool and capacity, for operators (on Kubernetes the pool is the
    cluster-wide fleet's, shared by every replica; capacity is this replica's)."""
    return pool_out(service)


def pool_out(service: SessionService) -> PoolStatus:
    """The pool as `GET /v1/pool` shows it (also the live feed's `pool` event)."""
    figures = service.pool.figures()
    return PoolStatus(
        desired=figures.desired,
        ready=figures.ready,
        starting=figures.starting,
        holding=service.holding(),
        free_capacity=service.admission.free_capacity(),
        profile=service.pool.profile.to_json(),
    )
