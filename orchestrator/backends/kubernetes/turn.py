"""Short-lived TURN credentials (the "TURN REST API", draft-uberti-behave-turn-rest-00,
as coturn implements it with `use-auth-secret` / `static-auth-secret`).

username = "<expiry unix seconds>:<subject>", password = base64(HMAC-SHA1(secret,
username)). The TURN server recomputes the HMAC with the shared secret and refuses the
allocation once the expiry has passed, so nothing is stored and nothing needs revoking.
Subjects are session ids for clients and pod names for streamers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.backends.kubernetes.settings import IceServerSettings


@dataclass(frozen=True, slots=True)
class TurnCredential:
    username: str
    credential: str
    expires_at: int


def turn_credential(secret: str, subject: str, *, now: float, ttl_s: int) -> TurnCredential:
    """Credentials for `subject` valid until `now + ttl_s` (whole seconds)."""
    if ":" in subject:
        raise ValueError("a TURN REST subject must not contain ':' (it separates the expiry)")
    expires = int(now) + ttl_s
    username = f"{expires}:{subject}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredential(username, base64.b64encode(digest).decode(), expires)


def ice_servers(
    static: Sequence[IceServerSettings],
    turn_uris: Sequence[str],
    turn: TurnCredential | None,
) -> list[dict[str, Any]]:
    """RTCIceServer dicts (`urls`, `username`, `credential`) in the order given."""
    servers: list[dict[str, Any]] = [s.model_dump(exclude_none=True) for s in static]
    if turn_uris and turn is not None:
        servers.append(
            {"urls": list(turn_uris), "username": turn.username, "credential": turn.credential}
        )
    return servers


def ice_servers_env(servers: list[dict[str, Any]]) -> str:
    """The value of `IXS_STREAMER_ICE_SERVERS`: a JSON list the streamer's settings parse."""
    return json.dumps(servers, separators=(",", ":"))
