"""The observer's page (clients/web/watch.html, js/watch.js): an instructor watches a
trainee's session, view only, and sees what the trainee's input does to it.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Browser, Route, expect

from tests.web.conftest import (
    REPORT,
    Orchestrator,
    difference,
    new_page,
    playing,
    settled_grab,
    start_session,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(120)]


async def test_a_spectator_sees_the_same_session_while_the_trainee_drives(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    trainee = await new_page(browser)
    session = await start_session(trainee, orchestrator, "jo")

    observer = await new_page(browser)
    await observer.goto(f"{orchestrator.base_url}/#token={orchestrator.token('instructor', 'mia')}")
    await observer.goto(f"{orchestrator.base_url}/watch.html?session={session['id']}")
    report = await playing(observer, frames=30)
    assert report["hello"]["role"] == "spectator"
    assert report["hello"]["controls"] is False, "a spectator never drives"
    assert (report["videoWidth"], report["videoHeight"]) == (session["width"], session["height"])
    await expect(observer.get_by_text("View only")).to_be_visible()
    await expect(observer.locator("#stage [data-role=recording]")).to_be_hidden()
    await expect(observer.get_by_role("button", name="End session")).to_have_count(0)

    noise = difference(await settled_grab(observer), await settled_grab(observer))
    before = await settled_grab(observer)
    await trainee.locator("#stage video").focus()
    await trainee.keyboard.down("ArrowRight")
    await trainee.wait_for_timeout(700)  # a held key turns at a speed: time is the input
    await trainee.keyboard.up("ArrowRight")
    after = await settled_grab(observer)
    moved = difference(before, after)
    assert moved > max(4 * noise, 6), f"the observer saw {moved:.1f} of change (noise {noise:.1f})"

    # Typing in the observer's window does nothing to the session.
    trainee_seq = (await trainee.evaluate(REPORT))["lastFrame"]["seq"]
    await observer.keyboard.down("ArrowLeft")
    await observer.wait_for_timeout(500)  # held as long as a trainee's would have to act
    await observer.keyboard.up("ArrowLeft")
    assert (await observer.evaluate(REPORT))["seq"] == 0
    assert orchestrator.session(session["id"])["viewers"] == 2
    assert (await trainee.evaluate(REPORT))["lastFrame"]["seq"] >= trainee_seq


async def test_everyone_watching_a_recorded_session_is_told_so(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    with orchestrator.api("instructor") as api:
        session = api.post(
            "/v1/sessions?wait=true",
            json={"client": "browser", "scenario": "test-pattern", "record": True},
        ).json()
    assert session["record"] is True
    observer = await new_page(browser)
    await observer.goto(f"{orchestrator.base_url}/#token={orchestrator.token('instructor', 'mia')}")
    await observer.goto(f"{orchestrator.base_url}/watch.html?session={session['id']}")
    report = await playing(observer, frames=10)
    assert report["hello"]["recording"] is True
    badge = observer.locator("#stage [data-role=recording]")
    await expect(badge).to_be_visible()
    await expect(badge).to_have_text("Recording")
    await expect(badge).to_have_attribute("title", re.compile("being recorded"))


async def test_watching_needs_a_sign_in(browser: Browser, orchestrator: Orchestrator) -> None:
    page = await new_page(browser)
    await page.goto(f"{orchestrator.base_url}/watch.html?session=s-unknown")
    await expect(page.get_by_role("heading", name="Sign in to watch this session.")).to_be_visible()


async def test_a_sign_in_link_is_kept_before_the_page_has_finished_loading(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    """The home page used to keep a link's `#token=` only after the sign-in
    configuration came back: a page left as soon as it had loaded (a user who opens a
    sign-in link and then a watch link; this file's other tests) could lose it. The
    configuration is held back here, so the token must be kept without it."""
    page = await new_page(browser)
    released = asyncio.Event()

    async def held(route: Route) -> None:
        await released.wait()
        await route.continue_()

    await page.route("**/v1/auth/config", held)
    token = orchestrator.token("instructor", "mia")
    await page.goto(f"{orchestrator.base_url}/#token={token}")
    kept = await page.evaluate("sessionStorage.getItem('ixstream.apiToken')")
    released.set()
    assert kept == token, "the link's token is kept as soon as the page has loaded"
    await page.goto(f"{orchestrator.base_url}/watch.html")
    await expect(
        page.get_by_role("heading", name="This link does not name a session.")
    ).to_be_visible()
