"""Session (signalling) tokens: the JWTs a streamer accepts on `POST /whep`.

The claims are the streamer contract's (docs/streamer-contract.md): `sid`, `role`,
`sub`, `exp` and `aud = "ixstream-streamer"`, HS256-signed with the key of the one
streamer serving the session. The orchestrator checks them too before it proxies an
offer, with the same key, so a wrong token never reaches a streamer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import jwt

from orchestrator.errors import AuthenticationError, SessionTokenRejectedError

STREAMER_AUDIENCE = "ixstream-streamer"
ALGORITHM = "HS256"
#: The role of the orchestrator's own tokens for a streamer's control API (loading a
#: scenario, instructor commands, the after-action log, recordings): the streamer never
#: lets it open WHEP, and never lets a viewer's token control. Not a `SessionRole`, so
#: `verify_session_token` refuses it on the WHEP proxy too.
CONTROL_ROLE = "orchestrator"


class SessionRole(StrEnum):
    """Roles inside a session, as the streamer knows them: only trainee and instructor
    input is applied; a spectator only watches."""

    TRAINEE = "trainee"
    INSTRUCTOR = "instructor"
    SPECTATOR = "spectator"


@dataclass(frozen=True, slots=True)
class SessionClaims:
    """What a verified session token says: who, in which role."""

    subject: str
    role: SessionRole


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    role: SessionRole
    expires_at: float


def mint_session_token(
    key: str,
    *,
    session_id: str,
    role: SessionRole,
    subject: str,
    now: float,
    ttl_s: float,
) -> IssuedToken:
    """Sign a token that opens `session_id`'s signalling for `ttl_s` seconds."""
    expires_at = now + ttl_s
    claims = {
        "sid": session_id,
        "role": role.value,
        "sub": subject,
        "aud": STREAMER_AUDIENCE,
        "iat": int(now),
        "exp": int(expires_at),
    }
    return IssuedToken(jwt.encode(claims, key, algorithm=ALGORITHM), role, float(int(expires_at)))


def mint_control_token(
    key: str, *, session_id: str | None, subject: str, now: float, ttl_s: float = 60
) -> str:
    """Sign a short-lived token for `session_id`'s streamer control API (C4) and its
    `/v1/status`. `session_id=None`: for a warm streamer not yet bound to a session
    (the token carries no `sid`; the streamer's own key is what it trusts)."""
    claims: dict[str, object] = {
        "role": CONTROL_ROLE,
        "sub": subject,
        "aud": STREAMER_AUDIENCE,
        "iat": int(now),
        "exp": int(now + ttl_s),
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, key, algorithm=ALGORITHM)


#: Who the orchestrator says it is in its control tokens (the streamer logs it).
CONTROL_SUBJECT = "system:orchestrator"


def control_headers(key: str, session_id: str | None) -> dict[str, str]:
    """`Authorization` for one call to a streamer's control API or `/v1/status`. Minted
    per call on the wall clock: the streamer checks `exp` against its own."""
    token = mint_control_token(key, session_id=session_id, subject=CONTROL_SUBJECT, now=time.time())
    return {"Authorization": f"Bearer {token}"}


def verify_session_token(key: str, token: str, *, session_id: str) -> SessionClaims:
    """Return the token's subject and role if it opens `session_id`; else raise.

    Mirrors the streamer: an unparsable token raises `AuthenticationError` (401);
    a bad signature, expiry, audience or `sid` raises `SessionTokenRejectedError` (403).
    """
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=STREAMER_AUDIENCE,
            options={"require": ["exp", "sid", "role", "aud"]},
        )
    except jwt.InvalidSignatureError as exc:  # a DecodeError subclass, but a 403
        raise SessionTokenRejectedError(f"the session token was refused: {exc}") from exc
    except jwt.DecodeError as exc:
        raise AuthenticationError(f"the session token cannot be parsed: {exc}") from exc
    except jwt.InvalidTokenError as exc:
        raise SessionTokenRejectedError(f"the session token was refused: {exc}") from exc
    if claims["sid"] != session_id:
        raise SessionTokenRejectedError(
            f"the session token is for another session, not {session_id!r}"
        )
    try:
        role = SessionRole(claims["role"])
    except ValueError as exc:
        raise SessionTokenRejectedError(
            f"the session token has an unknown role {claims['role']!r}"
        ) from exc
    return SessionClaims(subject=str(claims.get("sub", "")), role=role)
