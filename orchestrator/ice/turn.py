"""Short-lived TURN credentials (the "TURN REST API", draft-uberti-behave-turn-rest-00,
as coturn implements it with `use-auth-secret` / `static-auth-secret`).

username = "<expiry unix seconds>:<subject>", password = base64(HMAC-SHA1(secret,
username)). The TURN server recomputes the HMAC with the shared secret and refuses the
allocation once the expiry has passed, so nothing is stored and nothing needs revoking.
Subjects are session ids for browsers and streamers bound to a session, pod names for
warm streamers; coturn logs the username, so an allocation is traceable to its session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


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
