"""The trainee's page (clients/web/index.html, js/launcher.js) against a real
orchestrator, its local streamers and headless Chromium: signing in with the dev login
URL, starting a session, waiting in line when the platform is full, and being told in
plain words when signing in fails.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import (
    STREAM,
    Orchestrator,
    new_page,
    playing,
    screenshot,
    start_session,
    until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(120)]


async def test_a_trainee_signs_in_starts_a_session_and_watches_it_play(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    await page.goto(f"{orchestrator.base_url}/?token={orchestrator.token('trainee', 'ann')}")
    await expect(page.get_by_role("heading", name="Start a training session")).to_be_visible()
    assert "token=" not in page.url, "the token must not stay in the address bar"
    await expect(page.get_by_text("Signed in as")).to_contain_text("ann")
    await expect(page.get_by_role("radio", name="Sample")).to_be_checked()
    await screenshot(page, "launcher")

    await page.get_by_role("button", name="Start session").click()
    report = await playing(page, frames=60)

    session = await page.evaluate("window.ixClient.session")
    assert f"session={session['id']}" in page.url, "a reload must find the session again"
    assert (session["width"], session["height"]) == (STREAM["width"], STREAM["height"])
    assert (report["videoWidth"], report["videoHeight"]) == (session["width"], session["height"])
    assert (report["width"], report["height"]) == (session["width"], session["height"])
    assert report["codec"].lower() == "video/h264"
    assert report["hello"]["controls"] is True, "the trainee drives"
    assert orchestrator.session(session["id"])["state"] == "active"


async def test_a_reload_returns_to_the_running_session(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    first = await start_session(page, orchestrator, "ben")
    await page.reload()
    await playing(page, frames=30)
    again = await page.evaluate("window.ixClient.session")
    assert again["id"] == first["id"]


async def test_a_queued_trainee_sees_their_place_in_line_and_then_starts(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    # Fill every slot with sessions nobody watches (idle streamers cost almost nothing).
    blockers = []
    with orchestrator.api("operator") as api:
        free = api.get("/v1/pool").json()["free_capacity"]
        for _ in range(free):
            created = api.post("/v1/sessions?wait=false", json={"client": "browser"})
            assert created.status_code == 201, created.text
            blockers.append(created.json()["id"])
    page = await new_page(browser)
    await page.goto(f"{orchestrator.base_url}/#token={orchestrator.token('trainee', 'cat')}")
    await page.get_by_role("button", name="Start session").click()
    await expect(page.get_by_role("heading", name="Waiting for a training station")).to_be_visible(
        timeout=20_000
    )
    await expect(page.get_by_role("status")).to_have_text(
        "You are next in line for a training station."
    )
    await screenshot(page, "queued")
    with orchestrator.api("operator") as api:
        api.delete(f"/v1/sessions/{blockers[0]}").raise_for_status()
    await playing(page, frames=30, timeout_s=60)


async def test_a_refused_sign_in_is_explained_in_plain_words(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    await page.goto(f"{orchestrator.base_url}/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Access code").fill("not-a-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not valid or has expired")


async def test_a_refused_request_is_explained_with_a_way_back(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    """An unknown scenario is the simplest refusal to provoke: the page must say what
    happened in words, not show the raw problem document, and offer a way back."""
    page = await new_page(browser)
    await page.goto(f"{orchestrator.base_url}/#token={orchestrator.token('trainee', 'dan')}")
    await until(page, "document.querySelectorAll('input[name=scenario]').length", bool)
    await page.evaluate("document.querySelector('input[name=scenario]').value = 'no-such-scenario'")
    await page.get_by_role("button", name="Start session").click()
    await expect(
        page.get_by_role("heading", name="That scenario is not available.")
    ).to_be_visible()
    await expect(page.get_by_role("button", name="Back to scenarios")).to_be_visible()
    assert "{" not in await page.locator("#problem-card [data-field=advice]").inner_text()


async def test_the_scenario_cards_show_the_librarys_title_description_and_duration(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    await page.goto(f"{orchestrator.base_url}/#token={orchestrator.token('trainee', 'cara')}")
    with orchestrator.api("trainee") as api:
        catalogue = {s["name"]: s for s in api.get("/v1/scenarios").json()}
    traffic = catalogue["traffic-stop-night"]
    card = page.locator("label.choice").filter(
        has=page.locator("input[value='traffic-stop-night']")
    )
    await expect(card.locator("strong")).to_have_text("Traffic stop at night")
    await expect(card.locator("[data-role=description]")).to_have_text(traffic["description"])
    await expect(card.locator("[data-role=duration]")).to_have_text("About 10 min")
    sample = page.locator("label.choice").filter(has=page.locator("input[value='sample']"))
    await expect(sample.locator("strong")).to_have_text(catalogue["sample"]["title"])
