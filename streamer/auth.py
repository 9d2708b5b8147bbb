"""Viewer tokens: JWTs (RFC 7519) signed with the key this streamer was started with.

The orchestrator mints them; the streamer only verifies. A token names the
session (`sid`) and the viewer's role; only trainees and instructors drive. The
`orchestrator` role is the orchestrator's own, for the control API (loading a scenario,
instructor commands, the after-action log): it can never open a WHEP session, and a
viewer's token can never control.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

import jwt

AUDIENCE = "ixstream-streamer"
ALGORITHM = "HS256"
Role = Literal["trainee", "spectator", "instructor", "orchestrator"]
ROLES: tuple[Role, ...] = ("trainee", "spectator", "instructor")
CONTROL_ROLES: tuple[Role, ...] = ("orchestrator",)
#: Who may end a WHEP resource (`may_end` decides which one).
RESOURCE_ROLES: tuple[Role, ...] = (*ROLES, *CONTROL_ROLES)
DRIVING_ROLES = frozenset({"trainee", "instructor"})


class AuthError(Exception):
    """A request that may not open this session; `status` is 401 or 403."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ViewerClaims:
    subject: str
    role: Role
    session_id: str | None


def generate_secret() -> str:
    return secrets.token_urlsafe(48)


def mint_token(
    secret: str, role: Role, session_id: str | None, subject: str = "dev", ttl_s: int = 3600
) -> str:
    now = int(time.time())
    claims = {"sub": subject, "role": role, "aud": AUDIENCE, "iat": now, "exp": now + ttl_s}
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def bearer_token(authorization: str | None) -> str:
    """Extracts the token from `Authorization: Bearer …` (RFC 6750 §2.1)."""
    if not authorization:
        raise AuthError(401, "missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "Authorization header must be 'Bearer <token>'")
    return token.strip()


def verify_token(
    token: str, secret: str, session_id: str | None, roles: tuple[Role, ...] = ROLES
) -> ViewerClaims:
    """The token's claims, if it is valid, for this session, and one of `roles`."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "aud", "role", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError(403, "token expired") from None
    except jwt.InvalidSignatureError:
        raise AuthError(403, "token signature does not match this session's key") from None
    except jwt.DecodeError:
        raise AuthError(401, "token is not a well-formed JWT") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError(403, f"token rejected: {exc}") from None
    role = claims.get("role")
    if role not in roles:
        if roles == CONTROL_ROLES:
            raise AuthError(403, f"role {role!r} may not control the streamer")
        raise AuthError(403, f"role {role!r} may not view a session")
    sid = claims.get("sid")
    if session_id is not None and sid != session_id:
        raise AuthError(403, "token is for another session")
    return ViewerClaims(subject=str(claims["sub"]), role=role, session_id=sid)


def may_end(owner: ViewerClaims, caller: ViewerClaims) -> str | None:
    """Why `caller` may not end the WHEP resource that `owner` opened; None if it may.

    A resource ends by the token that created it (the same subject in the same role),
    by an instructor of the same session, or by the orchestrator (its control token,
    used on behalf of operators). Anyone else watching the session, a spectator above
    all, must not be able to cut the trainee off.
    """
    if caller.role in CONTROL_ROLES:
        return None
    if caller.session_id != owner.session_id:
        return "this WHEP resource belongs to another session"
    if caller.role == "instructor":
        return None
    if caller.subject == owner.subject and caller.role == owner.role:
        return None
    return (
        f"a {caller.role} token may not end a {owner.role}'s WHEP resource: only the token "
        "that created it, an instructor of this session or the orchestrator may"
    )
