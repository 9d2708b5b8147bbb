"""`GET /v1/auth/config` tells the pages how to sign in, without a token; the pages'
Content-Security-Policy admits exactly the OIDC issuer's origin when they sign in there;
settings refuse a sign-in that cannot work. Through the real app, over ASGI."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestrator.api.security_headers import page_policy
from orchestrator.settings import OrchestratorSettings
from tests.orchestrator.conftest import Harness

ISSUER = "https://id.fire.example/realms/training"
OIDC = {
    "oidc_issuer": ISSUER,
    "oidc_jwks_url": f"{ISSUER}/protocol/openid-connect/certs",
    "oidc_client_id": "ixstream-web",
    "oidc_organisation": "Regional Fire Service",
}


def connect_src(csp: str) -> str:
    return next(d for d in csp.split("; ") if d.startswith("connect-src "))


async def test_without_an_identity_provider_the_pages_sign_in_with_links(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app() as app:
        response = await app.client.get("/v1/auth/config")
    assert response.status_code == 200
    assert response.json() == {"oidc": None}
    assert connect_src(response.headers["content-security-policy"]) == "connect-src 'self'"


async def test_with_a_client_id_the_pages_learn_the_provider_without_a_token(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app(**OIDC, oidc_scopes="openid profile email") as app:
        response = await app.client.get("/v1/auth/config")
        page = await app.client.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "oidc": {
            "issuer": ISSUER,
            "client_id": "ixstream-web",
            "scopes": "openid profile email",
            "redirect_path": "/",
            "organisation": "Regional Fire Service",
        }
    }
    # Exactly the issuer's origin (no path, no wildcard), on the API and the pages alike.
    for csp in (
        response.headers["content-security-policy"],
        page.headers["content-security-policy"],
    ):
        assert connect_src(csp) == "connect-src 'self' https://id.fire.example"


async def test_an_issuer_for_api_tokens_alone_does_not_widen_the_page_policy(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    """A site whose API verifies OIDC tokens but whose pages do not sign in there (no
    client id) keeps `connect-src 'self'`."""
    without_client = {k: v for k, v in OIDC.items() if k != "oidc_client_id"}
    async with make_app(**without_client) as app:
        response = await app.client.get("/v1/auth/config")
    assert response.json() == {"oidc": None}
    assert connect_src(response.headers["content-security-policy"]) == "connect-src 'self'"


def test_the_page_policy_lists_each_allowed_origin_once_after_self() -> None:
    assert "connect-src 'self' http://127.0.0.1:9000;" in page_policy(["http://127.0.0.1:9000"])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"oidc_client_id": "ixstream-web"}, "needs IXS_ORCH_OIDC_ISSUER"),
        ({**OIDC, "oidc_scopes": "profile email"}, "must include `openid`"),
    ],
)
def test_a_sign_in_that_cannot_work_is_refused_at_start(
    tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        OrchestratorSettings(state_dir=tmp_path, **settings)  # type: ignore[arg-type]
