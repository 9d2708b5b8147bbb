"""A stranger's WHEP player, on a page of another origin, plays our streams in Chromium.

The player is medooze's `whip-whep` (`whep.js`, by an author of the WHEP draft), from
the npm registry, pinned in `clients/web/test-support`: the project did not write it.
It trickles its candidates with PATCH after the offer and copes with a 405 there (WHEP
§4.3.1), which is what a server without trickle ICE answers (aiortc has none).

Its page is served by a loopback HTTP server on a port of its own, so the page's
origin (`http://127.0.0.1:<page port>`) is really another origin than the WHEP
endpoints'. An orchestrator (`ixstream up`) admits that origin only
(`IXS_ORCH_CORS_ORIGINS`) and passes it on to its streamers. The player plays a
session both through the orchestrator's proxy and straight from the session's
streamer, and the test sees frames decoded (`getStats`) and a picture that is not
black; the player's DELETE at the end is readable cross-origin too. A page of a
second, disallowed origin has its WHEP fetch refused by the browser, while the
allowed page's identical fetch gets the server's answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.waiting import wait_until
from tests.web.conftest import (
    GRAB,
    WEB_ROOT,
    Orchestrator,
    new_page,
    start_orchestrator,
    stop,
    until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(240)]

WHEP_JS = WEB_ROOT / "test-support" / "node_modules" / "whip-whep" / "whep.js"

#: The stranger's page: a <video>, and whep.js driving a bare RTCPeerConnection.
PLAYER_PAGE = b"""<!doctype html>
<meta charset="utf-8"><title>someone else's WHEP player</title>
<video id="video" autoplay muted playsinline width="320" height="180"></video>
<script type="module">
import { WHEPClient } from "./whep.js";

window.play = async (url, token) => {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.ontrack = (event) => {
    document.getElementById("video").srcObject = new MediaStream([event.track]);
  };
  const client = new WHEPClient();
  window.player = { pc, client };
  await client.view(pc, url, token);
  return client.resourceURL.href;
};

window.framesDecoded = async () => {
  if (!window.player) return 0;
  let frames = 0;
  (await window.player.pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") frames = report.framesDecoded;
  });
  return frames;
};

window.stop = async () => {
  await window.player.client.stop();
  return "stopped";
};

// What the browser lets this page see of a WHEP POST: the status, or the fetch's error.
window.tryOffer = async (url, token) => {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + token },
      body: "v=0\\r\\n",
    });
    return { status: response.status };
  } catch (error) {
    return { error: String(error) };
  }
};
window.ready = true;
</script>
"""


class _PlayerFiles(BaseHTTPRequestHandler):
    """Serves the player page and whep.js, as its author's site would."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/player.html":
            self._send(PLAYER_PAGE, "text/html")
        elif path == "/whep.js":
            self._send(WHEP_JS.read_bytes(), "text/javascript")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origins() -> Iterator[tuple[str, str]]:
    """Two origins serving the player: the first is allowed, the second is not."""
    if not WHEP_JS.exists():
        pytest.fail(f"{WHEP_JS} is missing: run `npm ci --prefix clients/web/test-support`")
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _PlayerFiles) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield tuple(f"http://127.0.0.1:{s.server_address[1]}" for s in servers)  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def cors_orchestrator(
    tmp_path_factory: pytest.TempPathFactory, page_origins: tuple[str, str]
) -> Iterator[Orchestrator]:
    """`ixstream up` admitting the first page origin only (not dev mode's "any")."""
    allowed, _ = page_origins
    instance = start_orchestrator(
        tmp_path_factory.mktemp("cors-orchestrator"),
        pool=1,
        env={"IXS_ORCH_CORS_ORIGINS": json.dumps([allowed])},
    )
    yield instance
    stop(instance.proc)


def new_session(orchestrator: Orchestrator) -> dict[str, Any]:
    with orchestrator.api("trainee") as client:
        created = client.post("/v1/sessions", json={})
        assert created.status_code == 201, created.text
        session: dict[str, Any] = created.json()
    wait_until(
        lambda: orchestrator.session(session["id"])["state"] == "ready",
        60,
        lambda: f"the session ready:\n{orchestrator.log_tail()}",
    )
    return session


async def open_player(browser: Browser, origin: str) -> Page:
    page = await new_page(browser, 640, 360)
    await page.goto(f"{origin}/player.html")
    await until(page, "window.ready === true", bool, 30, "the player page loading")
    assert await page.evaluate("location.origin") == origin
    return page


async def play_and_see(page: Page, url: str, token: str) -> None:
    """The stranger's player plays `url`: frames decode, the picture is not black, and
    its DELETE goes through."""
    resource = await page.evaluate("([url, token]) => window.play(url, token)", [url, token])
    assert resource.startswith(url.rsplit("/whep", 1)[0]), resource
    await until(page, "window.framesDecoded()", lambda n: n > 30, 60, "frames decoded")
    pixels = await until(
        page,
        f"({GRAB})('#video')",
        lambda rgba: max(v for i, v in enumerate(rgba) if i % 4 != 3) > 40,
        30,
        "a picture that is not black",
    )
    assert pixels
    assert await page.evaluate("window.stop()") == "stopped"


async def test_a_strangers_player_plays_a_session_through_the_proxy_from_another_origin(
    browser: Browser, cors_orchestrator: Orchestrator, page_origins: tuple[str, str]
) -> None:
    session = new_session(cors_orchestrator)
    assert session["whep_url"].startswith(cors_orchestrator.base_url)
    page = await open_player(browser, page_origins[0])
    await play_and_see(page, session["whep_url"], session["token"])


async def test_a_strangers_player_plays_the_sessions_streamer_directly_from_another_origin(
    browser: Browser, cors_orchestrator: Orchestrator, page_origins: tuple[str, str]
) -> None:
    session = new_session(cors_orchestrator)
    port = cors_orchestrator.streamer_record(session["id"])["port"]
    direct = f"http://127.0.0.1:{port}/whep"
    # The streamer was told the orchestrator's allowed origins (not dev mode's "any").
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.options(direct, headers={"Origin": page_origins[1]})
    assert "access-control-allow-origin" not in refused.headers
    page = await open_player(browser, page_origins[0])
    await play_and_see(page, direct, session["token"])


async def test_the_browser_refuses_a_disallowed_origin_and_serves_the_allowed_one(
    browser: Browser, cors_orchestrator: Orchestrator, page_origins: tuple[str, str]
) -> None:
    session = new_session(cors_orchestrator)
    port = cors_orchestrator.streamer_record(session["id"])["port"]
    endpoints = [session["whep_url"], f"http://127.0.0.1:{port}/whep"]
    allowed = await open_player(browser, page_origins[0])
    stranger = await open_player(browser, page_origins[1])
    for url in endpoints:
        args = [url, session["token"]]
        answered = await allowed.evaluate("([u, t]) => window.tryOffer(u, t)", args)
        assert answered == {"status": 400}, (url, answered)  # the server's reason, readable
        blocked = await stranger.evaluate("([u, t]) => window.tryOffer(u, t)", args)
        assert "Failed to fetch" in blocked.get("error", ""), (url, blocked)
        played = await stranger.evaluate(
            "([u, t]) => window.play(u, t).then(() => 'played', (e) => String(e))", args
        )
        assert "Failed to fetch" in played, (url, played)
