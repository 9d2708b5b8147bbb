"""The WHEP CORS policy and middleware (`ixstream/cors.py`), with no server around them.

Origins are normalised as browsers serialise them; an allowed origin is echoed (never
`*`), with the methods, request headers and exposed headers a WHEP player needs; a
disallowed or absent origin gets none of them; every answer on a WHEP path varies by
`Origin`, and paths outside the scope pass untouched, whatever the request.
"""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ixstream.cors import ANY, CorsPolicy, OriginError, ScopedCors, normalise_origin, origin_of

PLAYER = "http://player.test:8081"


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("http://Player.TEST:8081", "http://player.test:8081"),
        ("https://ix.example/", "https://ix.example"),
        (" * ", ANY),
    ],
)
def test_origins_are_normalised_as_a_browser_serialises_them(value: str, origin: str) -> None:
    assert normalise_origin(value) == origin


@pytest.mark.parametrize(
    "value", ["player.test", "ftp://player.test", "https://ix.example/app", "http://u@x.test", ""]
)
def test_anything_but_an_origin_or_star_is_refused(value: str) -> None:
    with pytest.raises(OriginError):
        normalise_origin(value)


def test_the_origin_of_a_public_url_drops_its_path() -> None:
    assert origin_of("https://IX.example:8443/base/") == "https://ix.example:8443"


def test_an_allowed_origin_is_echoed_with_everything_a_whep_player_needs() -> None:
    headers = dict(CorsPolicy.for_origins([PLAYER]).headers(PLAYER))
    assert headers["Access-Control-Allow-Origin"] == PLAYER
    assert set(headers["Access-Control-Allow-Methods"].split(", ")) >= {
        "POST", "DELETE", "PATCH", "OPTIONS",
    }  # fmt: skip
    assert set(headers["Access-Control-Allow-Headers"].split(", ")) >= {
        "Authorization", "Content-Type", "If-Match",
    }  # fmt: skip
    assert set(headers["Access-Control-Expose-Headers"].split(", ")) >= {
        "Location", "Link", "ETag", "Accept-Patch",
    }  # fmt: skip
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in headers


def test_any_origin_is_still_echoed_never_a_star() -> None:
    headers = dict(CorsPolicy.for_origins([ANY]).headers("http://anyone.test"))
    assert headers["Access-Control-Allow-Origin"] == "http://anyone.test"


def test_a_disallowed_or_absent_origin_gets_no_cors_header() -> None:
    policy = CorsPolicy.for_origins([PLAYER])
    assert policy.headers("http://evil.test") == []
    assert policy.headers(None) == []
    assert CorsPolicy.for_origins([]).headers(PLAYER) == []


async def _ok(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Vary": "Accept-Encoding"})


def _client(origins: list[str]) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/whep", _ok, methods=["POST", "OPTIONS"]), Route("/other", _ok)])
    scoped = ScopedCors(app, CorsPolicy.for_origins(origins), re.compile(r"/whep(/[^/]+)?"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=scoped), base_url="http://s.test")


async def test_the_middleware_adds_cors_on_its_paths_only_and_merges_vary() -> None:
    async with _client([PLAYER]) as client:
        whep = await client.post("/whep", headers={"Origin": PLAYER})
        other = await client.get("/other", headers={"Origin": PLAYER})
    assert whep.headers["access-control-allow-origin"] == PLAYER
    assert whep.headers["vary"] == "Accept-Encoding, Origin"
    assert not any(name.startswith("access-control-") for name in other.headers)
    assert other.headers["vary"] == "Accept-Encoding"


async def test_a_disallowed_origin_is_answered_as_usual_without_cors() -> None:
    async with _client([PLAYER]) as client:
        response = await client.options("/whep", headers={"Origin": "http://evil.test"})
    assert response.status_code == 200
    assert response.text == "ok"
    assert "access-control-allow-origin" not in response.headers
    assert "Origin" in response.headers["vary"]
