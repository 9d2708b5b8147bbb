"""The operations console (clients/web/operator.html, js/operator.js): operators see
every session live with the warm pool, and can end a session; anyone else is told the
page is not for them.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.waiting import eventually
from tests.web.conftest import Orchestrator, new_page, playing, screenshot, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(120)]


async def test_the_operator_console_lists_live_sessions_and_ends_one(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    trainee = await new_page(browser)
    session = await start_session(trainee, orchestrator, "kim")
    with orchestrator.api("instructor") as api:  # a second, queued-free, idle session
        api.post("/v1/sessions?wait=true", json={"client": "browser", "scenario": "test-pattern"})

    console = await new_page(browser, 1366, 800)
    await console.goto(f"{orchestrator.base_url}/#token={orchestrator.token('operator', 'olga')}")
    await console.get_by_role("link", name="Operations console").click()
    await expect(console.get_by_role("heading", name="Operations")).to_be_visible()
    row = console.locator(f"tr[data-session='{session['id']}']")
    await expect(row).to_contain_text("Active")
    await expect(row).to_contain_text("kim")
    await expect(row).to_contain_text("Sample")
    await expect(row).to_contain_text("640×360 · 30 fps")
    await expect(row.locator("td").nth(5)).to_have_text("1")  # viewers
    await expect(console.locator("#t-active")).to_have_text("2")
    await expect(console.locator("#pool-text")).to_contain_text("warm stations ready")
    await console.wait_for_timeout(1200)  # real time, for the screenshot: durations tick
    await screenshot(console, "operator")

    await row.get_by_role("button", name="End kim's session").click()
    await console.get_by_role("button", name="End session").click()
    await expect(trainee.get_by_role("heading", name="The session has ended.")).to_be_visible(
        timeout=20_000
    )
    await expect(row).to_have_count(0, timeout=10_000)  # finished sessions are hidden
    await eventually(
        lambda: orchestrator.session(session["id"])["state"] == "ended",
        10,
        "the session ended",
        interval_s=0.2,
    )


async def test_the_operator_console_turns_away_a_trainee(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    await page.goto(f"{orchestrator.base_url}/#token={orchestrator.token('trainee', 'lee')}")
    await expect(page.get_by_role("link", name="Operations console")).to_be_hidden()
    await page.goto(f"{orchestrator.base_url}/operator.html")
    await expect(
        page.get_by_role("heading", name="This page is for platform operators.")
    ).to_be_visible()


async def test_an_operator_can_open_a_watch_view_from_the_console(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    trainee = await new_page(browser)
    session = await start_session(trainee, orchestrator, "max")
    console = await new_page(browser)
    await console.goto(
        f"{orchestrator.base_url}/operator.html#token={orchestrator.token('operator', 'olga')}"
    )
    link = console.locator(f"tr[data-session='{session['id']}']").get_by_role("link", name="Watch")
    async with console.context.expect_page() as opened:
        await link.click()
    watch = await opened.value
    report = await playing(watch, frames=20)
    assert report["hello"]["role"] == "spectator"
