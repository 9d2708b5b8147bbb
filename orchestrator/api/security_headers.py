"""Response headers that keep the web client's pages from being turned against their users.

Every response says `X-Content-Type-Options: nosniff` (a JSON or text body is never
run as a script) and `Referrer-Policy: no-referrer` (page addresses carry session ids).
Pages get a Content-Security-Policy that allows the client's own files only: no inline
script, no inline style, no plugin, no other origin to fetch from, and `frame-ancestors
'none'`, so an injected caption or scenario title cannot run, and no other site can
frame a console to click through it. The OpenAPI pages (`/docs`, `/redoc`) load
FastAPI's viewer with inline script, so they are exempt from all but `frame-ancestors`.
When the pages sign in with OIDC they talk to the identity provider from the browser
(discovery, token and refresh requests): `connect-src` then admits exactly the issuer's
origin, nothing wider (CSP Level 3 §6.1.2; docs/sign-in.md).
A pure ASGI middleware, so streamed bodies (WHEP proxy, downloads) stay streamed.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def page_policy(connect_origins: Sequence[str] = ()) -> str:
    """The pages' policy; `connect_origins` are the other origins scripts may fetch from
    (the OIDC issuer's, when the pages sign in there)."""
    connect = " ".join(("'self'", *connect_origins))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            f"connect-src {connect}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


PAGE_POLICY = page_policy()
#: Swagger UI and ReDoc need inline script; still, nobody may frame them.
DOCS_POLICY = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")

COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def policy_for(path: str, pages: str = PAGE_POLICY) -> str:
    """The Content-Security-Policy a response to `path` carries."""
    return DOCS_POLICY if path.startswith(DOCS_PATHS) else pages


class SecurityHeaders:
    def __init__(self, app: ASGIApp, connect_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.pages = page_policy(connect_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = (b"content-security-policy", policy_for(scope["path"], self.pages).encode())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in (*COMMON, csp) if h[0] not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
