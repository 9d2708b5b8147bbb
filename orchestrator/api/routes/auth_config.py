"""`GET /v1/auth/config`: how the web pages sign in, before anyone has signed in.

The pages are static files; which identity provider a site uses is a server setting.
The page asks here, then reads the provider's own discovery document (OpenID Connect
Discovery 1.0 §4) and runs the authorization-code flow with PKCE itself (RFC 7636;
OAuth 2.0 for Browser-Based Apps). Public on purpose: it says only what the provider's
login page would show anyway (issuer, a public client's id, scopes), no secret.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ixstream.cors import origin_of
from orchestrator.api.deps import Context
from orchestrator.settings import OrchestratorSettings

router = APIRouter(prefix="/v1/auth", tags=["identity"])

#: Where the provider sends the browser back: the trainee's page, which finishes the
#: sign-in. Register `<public URL>/` as the client's redirect and post-logout URI.
REDIRECT_PATH = "/"


class OidcSignIn(BaseModel):
    """What a page needs to run the authorization-code flow against the issuer."""

    issuer: str = Field(description="The issuer; the page reads its discovery document.")
    client_id: str = Field(description="The pages' public client (no secret; PKCE S256).")
    scopes: str = Field(description="Scopes to ask for, space-separated.")
    redirect_path: str = Field(description="Path on this origin the provider returns to.")
    organisation: str = Field(description='Shown as "Sign in with <organisation>".')


class AuthConfigOut(BaseModel):
    """`oidc` is null when the site signs in with links or access codes (dev mode, HS256)."""

    oidc: OidcSignIn | None


def sign_in_of(settings: OrchestratorSettings) -> OidcSignIn | None:
    """The pages' OIDC sign-in, or None when it is not configured."""
    if settings.oidc_client_id is None or settings.oidc_issuer is None:
        return None
    return OidcSignIn(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        scopes=settings.oidc_scopes,
        redirect_path=REDIRECT_PATH,
        organisation=settings.oidc_organisation,
    )


def connect_origins(settings: OrchestratorSettings) -> list[str]:
    """Origins the pages' CSP must let scripts reach: the issuer's, when they sign in
    there (discovery, token and refresh requests all go to it), else none."""
    sign_in = sign_in_of(settings)
    return [origin_of(sign_in.issuer)] if sign_in is not None else []


@router.get("/config", response_model=AuthConfigOut)
async def auth_config(context: Context) -> AuthConfigOut:
    """How the web pages sign in on this site."""
    return AuthConfigOut(oidc=sign_in_of(context.settings))
