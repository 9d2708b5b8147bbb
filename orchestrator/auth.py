"""API authentication: bearer JWTs carrying a role (DESIGN.md §3, RFC 6750).

Two ways to verify, chosen by settings: an HS256 shared key (`IXS_ORCH_JWT_SECRET`,
generated in dev mode), or an OIDC issuer's signing keys fetched from its JWKS URL with
PyJWKClient (RS256/ES256/EdDSA). Either way the token must carry `sub`, `exp`, the
configured audience, and a role claim that `RolePolicy` maps to exactly one of trainee,
instructor or operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt

from orchestrator.errors import AuthenticationError, PermissionDeniedError, TokenRejectedError
from orchestrator.identity import ROLE_RANK, Principal, Role
from orchestrator.settings import OrchestratorSettings

HMAC_ALGORITHMS = ["HS256"]
#: Asymmetric algorithms accepted from an OIDC issuer; never "none", never HMAC (a JWKS
#: public key must not be usable as an HMAC secret).
_ROLES_BY_NAME = {r.value: r for r in Role}
OIDC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """How a token's role claim becomes one role (settings `role_mapping`,
    `multiple_roles`). An identity provider usually sends groups, several of them, most
    unrelated to us: unknown names are ignored, mapped ones counted, and a claim that
    maps to two different roles is refused unless the site chose least or most
    privilege. Taking the most privileged silently would let one stray group in the
    provider turn a trainee into an operator."""

    mapping: Mapping[str, Role] = field(default_factory=dict)
    multiple: Literal["refuse", "least", "most"] = "refuse"

    def role(self, value: object) -> Role:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list):
            names = []
        known = self.mapping or _ROLES_BY_NAME
        roles = sorted(
            {known[n] for n in names if isinstance(n, str) and n in known},
            key=ROLE_RANK.__getitem__,
        )
        if not roles:
            # Authenticated, but entitled to nothing here: RFC 6750 "insufficient_scope", 403.
            raise PermissionDeniedError(
                f"the token grants no known role (got {value!r}; expected one of "
                f"{', '.join(sorted(known))})"
            )
        if len(roles) > 1 and self.multiple == "refuse":
            raise PermissionDeniedError(
                f"the token grants several roles ({', '.join(r.value for r in roles)}); "
                "this site accepts one (settings: multiple_roles)"
            )
        return roles[-1] if self.multiple == "most" else roles[0]


def mint_api_token(
    secret: str, *, subject: str, role: Role, audience: str, now: float, ttl_s: float
) -> str:
    """An HS256 API token: what dev mode prints, and what tests and load tests use."""
    claims = {
        "sub": subject,
        "role": role.value,
        "aud": audience,
        "iat": int(now),
        "exp": int(now + ttl_s),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class Authenticator:
    """Turns a bearer token into a `Principal`, or raises."""

    def __init__(self, settings: OrchestratorSettings) -> None:
        self._audience = settings.jwt_audience
        self._issuer = settings.oidc_issuer
        self._role_claim = settings.role_claim
        self._roles = RolePolicy(settings.role_mapping, settings.multiple_roles)
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._jwks = (
            jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=300, timeout=5)
            if settings.oidc_jwks_url
            else None
        )

    async def authenticate(self, token: str) -> Principal:
        claims = await self._verify(token)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise TokenRejectedError("the token has no subject (`sub`)")
        return Principal(subject=subject, role=self._roles.role(claims.get(self._role_claim)))

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise AuthenticationError(f"the bearer token cannot be parsed: {exc}") from exc
        try:
            if header.get("alg") in HMAC_ALGORITHMS and self._secret is not None:
                return self._decode(token, self._secret, HMAC_ALGORITHMS, issuer=None)
            if self._jwks is not None:
                # PyJWKClient fetches over blocking HTTP (then caches): keep it off the loop.
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                return self._decode(token, signing_key.key, OIDC_ALGORITHMS, issuer=self._issuer)
        except jwt.PyJWKClientError as exc:
            raise TokenRejectedError(f"the token's signing key could not be found: {exc}") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejectedError(f"the bearer token was refused: {exc}") from exc
        raise TokenRejectedError(f"tokens signed with {header.get('alg')!r} are not accepted here")

    def _decode(
        self, token: str, key: Any, algorithms: list[str], issuer: str | None
    ) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=self._audience,
            issuer=issuer,
            options={"require": ["exp", "sub", "aud"]},
        )
        return claims
