"""Reading a request body without letting its sender decide how much memory it takes.

Every route that reads a body itself (scenario documents, WHEP offers) reads it here:
refused by its declared length before a byte is read, else while streaming as soon as
it passes the limit, so at most `limit` bytes plus one chunk are ever held. Routes whose
body FastAPI parses are bounded by the app-wide `MAX_BODY_BYTES` (Starlette's body limit
middleware, the same streaming cut). A route checks who is asking before it calls this:
a request that will be refused anyway is answered without reading its body at all.
"""

from __future__ import annotations

from fastapi import Request

from orchestrator.errors import BodyTooLargeError

#: Any body FastAPI parses (session specs, scenario commands): a few hundred bytes in
#: practice; scenario documents (256 KiB) are the largest body any route takes.
MAX_BODY_BYTES = 1024 * 1024


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """The body, refused (`BodyTooLargeError`, 413) as soon as it is known to pass
    `limit` bytes. `what` names the body in the refusal ("a scenario document")."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"{what} is at most {limit} bytes; this one is {declared}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError(f"{what} is at most {limit} bytes")
    return bytes(body)
