"""Participants who are not on the cluster's network (issue 11): the session response
carries TURN with credentials minted for the session, and the web client, forced to
relay-only ICE with `?relay=1`, plays the stream through a real coturn on loopback.
With credentials the TURN server refuses (the orchestrator's shared secret is not
coturn's) no media flows, and the page says the relay refused, instead of hanging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from streamer.auth import generate_secret
from tests.turn import Coturn
from tests.web.conftest import Orchestrator, new_page, playing, start_orchestrator, stop

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

#: The selected candidate pair's ends, from the page's own peer connection (getStats).
SELECTED_PAIR = """async () => {
  const stats = await window.ixClient.stage.stream.pc.getStats();
  for (const report of stats.values()) {
    if (report.type !== "transport" || !report.selectedCandidatePairId) continue;
    const pair = stats.get(report.selectedCandidatePairId);
    return {
      local: stats.get(pair.localCandidateId).candidateType,
      remote: stats.get(pair.remoteCandidateId).candidateType,
      bytesReceived: pair.bytesReceived,
    };
  }
  return null;
}"""


def orchestrator_with_turn(tmp: Path, coturn: Coturn, secret: str) -> Orchestrator:
    env = {
        "IXS_ORCH_ICE__TURN_URIS": json.dumps([coturn.uri]),
        "IXS_ORCH_ICE__TURN_SECRET": secret,
        "IXS_ORCH_ICE__TURN_TTL_S": "600",
    }
    return start_orchestrator(tmp, pool=0, max_sessions=1, env=env)


@pytest.fixture
def relayed(tmp_path: Path, coturn: Coturn) -> Iterator[Orchestrator]:
    """An orchestrator whose TURN secret is coturn's."""
    instance = orchestrator_with_turn(tmp_path, coturn, coturn.secret)
    yield instance
    stop(instance.proc)


@pytest.fixture
def misconfigured(tmp_path: Path, coturn: Coturn) -> Iterator[Orchestrator]:
    """An orchestrator minting credentials with a secret coturn does not know."""
    instance = orchestrator_with_turn(tmp_path, coturn, generate_secret())
    yield instance
    stop(instance.proc)


async def test_relay_only_chromium_plays_the_stream_through_coturn(
    browser: Browser, relayed: Orchestrator, coturn: Coturn
) -> None:
    page = await new_page(browser)
    await page.goto(f"{relayed.base_url}/?relay=1#token={relayed.token('trainee', 'remy')}")
    await page.get_by_role("button", name="Start session").click()
    report = await playing(page, frames=60)
    session = await page.evaluate("window.ixClient.session")
    (turn,) = session["ice_servers"]
    assert turn["urls"] == [coturn.uri]
    assert turn["username"].endswith(f":{session['id']}")
    config = await page.evaluate("window.ixClient.stage.stream.pc.getConfiguration()")
    assert config["iceTransportPolicy"] == "relay"
    pair = await page.evaluate(SELECTED_PAIR)
    assert pair is not None, "no selected candidate pair"
    assert pair["local"] == "relay", pair  # every packet the page got crossed coturn
    assert pair["bytesReceived"] > 0
    assert report["framesDecoded"] > 60
    assert coturn.allocations() >= 1
    assert session["id"] in coturn.log_text()  # the allocation's user is this session
    await page.context.close()


async def test_refused_turn_credentials_give_no_media_and_say_so(
    browser: Browser, misconfigured: Orchestrator, coturn: Coturn
) -> None:
    page = await new_page(browser)
    token = misconfigured.token("trainee", "remy")
    await page.goto(f"{misconfigured.base_url}/?relay=1#token={token}")
    await page.get_by_role("button", name="Start session").click()
    title = page.get_by_role("heading", name="The relay server gave this connection no route.")
    await expect(title).to_be_visible(timeout=30_000)
    problem = await page.locator("#problem-card").text_content() or ""  # details folded
    assert "no ICE candidate was gathered" in problem, problem
    assert await page.evaluate("window.ixClient.stage") is None  # left the stage
    assert coturn.allocations() == 0
    await page.context.close()
