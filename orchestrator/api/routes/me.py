"""`GET /v1/me`: who the caller is, as the orchestrator reads their token.

Clients used to decode the JWT themselves, which breaks when an OIDC provider puts the
role in a claim of another name (`role_claim`) or lists several roles: only the server
knows which claim it reads and which role wins.
"""

from __future__ import annotations

from fastapi import APIRouter

from orchestrator.api.deps import CurrentPrincipal
from orchestrator.api.problems import problem_responses
from orchestrator.api.schemas import MeOut

router = APIRouter(prefix="/v1", responses=problem_responses(401))


@router.get("/me", response_model=MeOut, tags=["identity"])
async def who_am_i(principal: CurrentPrincipal) -> MeOut:
    """The caller's subject and the role the orchestrator grants them."""
    return MeOut(subject=principal.subject, role=principal.role)
