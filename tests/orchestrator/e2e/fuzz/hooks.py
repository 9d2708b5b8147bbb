"""Schemathesis hooks for the orchestrator's fuzz stage (loaded through SCHEMATHESIS_HOOKS).

WHEP offers are `application/sdp` (draft-ietf-wish-whep §4.2), a media type Schemathesis
cannot serialise by itself: send the generated string as the raw body, as a WHEP player
would, so the operation is fuzzed rather than skipped.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/sdp")
def sdp(ctx: Any, value: Any) -> dict[str, Any]:
    return {"data": value.encode() if isinstance(value, str) else b""}
