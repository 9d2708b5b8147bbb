"""CORS for WHEP endpoints: a player served from another origin may signal with us.

A WHEP player is a web page; when it is served from another origin than the WHEP
endpoint (someone else's player, a direct streamer URL), the browser lets it read our
answers only if they carry CORS headers (WHATWG Fetch §3.2, "CORS protocol"). WHEP
§4.1 names OPTIONS as the CORS preflight and expects `Location`, `Link` (ICE servers,
§4.4) and `ETag` (§4.3) to be readable by the page, so they are exposed.

Both deployables use this one policy, scoped to their WHEP paths only: the streamer's
control API and status, and the orchestrator's own API, are never for other origins.

Why not Starlette's `CORSMiddleware`: it is app-wide, answers a preflight itself (so
the route's `Accept-Post`, WHEP §4.1, is lost) and answers a preflight from a
disallowed origin with 400 where we want the request answered as usual, only without
`Access-Control-Allow-Origin`, so that the browser is the one that refuses.

The allowed origin is echoed, never `*`, with `Vary: Origin` so that caches keep one
answer per origin (Fetch §3.2.5 "CORS protocol and HTTP caches"). No
`Access-Control-Allow-Credentials`: WHEP authenticates with a bearer token in
`Authorization`, not cookies, so a page never needs to send credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ANY = "*"
#: What a WHEP client sends (WHEP §4.2 offer, §4.3 DELETE, §4.3.1 PATCH, §4.1 preflight).
WHEP_METHODS = ("POST", "DELETE", "PATCH", "OPTIONS")
#: Request headers a WHEP client sets: the bearer token (§4.5), the SDP or trickle
#: fragment type, and `If-Match` on an ICE restart PATCH (§4.3.2).
WHEP_REQUEST_HEADERS = ("Authorization", "Content-Type", "If-Match")
#: Response headers a WHEP client must read: the resource (§4.2), ICE servers (§4.4),
#: the ICE session's entity tag (§4.3.1), and what PATCH / POST take (§4.3.1, §4.1).
WHEP_EXPOSED_HEADERS = ("Location", "Link", "ETag", "Accept-Patch", "Accept-Post")


class OriginError(ValueError):
    """A configured origin is not `*` nor `scheme://host[:port]`."""


def normalise_origin(value: str) -> str:
    """`value` as a browser serialises an origin (RFC 6454 §6.1): lower-case scheme and
    host, no path, no trailing slash. `*` stays `*`; anything else is refused."""
    value = value.strip()
    if value == ANY:
        return ANY
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OriginError(f"{value!r} is not an origin (scheme://host[:port]) nor '*'")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise OriginError(f"{value!r} is not an origin: it has more than scheme://host[:port]")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def origin_of(url: str) -> str:
    """The origin of a URL (e.g. the orchestrator's `public_url`)."""
    parts = urlsplit(url)
    return normalise_origin(f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """Which origins may use an endpoint, and what they may send and read."""

    origins: frozenset[str]
    methods: tuple[str, ...] = WHEP_METHODS
    request_headers: tuple[str, ...] = WHEP_REQUEST_HEADERS
    exposed_headers: tuple[str, ...] = WHEP_EXPOSED_HEADERS
    max_age_s: int = 600

    @classmethod
    def for_origins(cls, origins: Iterable[str]) -> CorsPolicy:
        return cls(frozenset(normalise_origin(o) for o in origins))

    def allows(self, origin: str) -> bool:
        return ANY in self.origins or origin.lower() in self.origins

    def headers(self, origin: str | None) -> list[tuple[str, str]]:
        """The CORS headers of an answer to a request from `origin` (`None`: no
        `Origin` header, not a cross-origin request). A disallowed origin gets none:
        the browser then refuses to hand the answer to the page."""
        if origin is None or not self.allows(origin):
            return []
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ", ".join(self.methods)),
            ("Access-Control-Allow-Headers", ", ".join(self.request_headers)),
            ("Access-Control-Expose-Headers", ", ".join(self.exposed_headers)),
            ("Access-Control-Max-Age", str(self.max_age_s)),
        ]


class ScopedCors:
    """Pure ASGI middleware adding `policy`'s headers to every answer on the paths
    `paths` matches (preflight and actual requests alike), and `Vary: Origin` to them
    all; other paths pass untouched. The routes answer OPTIONS themselves."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy, paths: re.Pattern[str]) -> None:
        self.app = app
        self.policy = policy
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.paths.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        extra = [(k.lower().encode(), v.encode()) for k, v in self.policy.headers(origin)]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_vary_origin([*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _with_vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` with `Origin` added to `Vary` (RFC 9110 §12.5.5), merged with any."""
    for i, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            names = {v.strip().lower() for v in value.split(b",")}
            if b"origin" not in names and b"*" not in names:
                headers[i] = (key, value + b", Origin")
            return headers
    return [*headers, (b"vary", b"Origin")]
