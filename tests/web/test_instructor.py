"""The instructor console (clients/web/instruct.html, js/instruct.js) against the real
stack: an instructor directs a trainee's gas-leak scenario (an instructor event, pause
and resume, the end with an outcome) and the trainee's own page shows each of them
(caption, "Paused by the instructor", the outcome; the picture itself for the haze).
Anyone else is kept away from the controls, and API refusals are shown, not hidden.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import APIResponse, Browser, Page, Route, expect

from tests.waiting import eventually
from tests.web.conftest import (
    REPORT,
    Orchestrator,
    difference,
    new_page,
    screenshot,
    settled_grab,
    start_session,
    until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(240)]

SCENARIO = "gas-leak-warehouse"
SNAPSHOT = "window.ixClient && window.ixClient.snapshot"
COWORKER_CAPTION = "Your colleague has not moved. They may not have heard the alarm."


async def open_console(browser: Browser, orchestrator: Orchestrator, session_id: str) -> Page:
    console = await new_page(browser, 1366, 900)
    token = orchestrator.token("instructor", "mia")
    await console.goto(f"{orchestrator.base_url}/instruct.html?session={session_id}#token={token}")
    return console


async def open_console_from_home(
    browser: Browser, orchestrator: Orchestrator, session_id: str
) -> Page:
    """Signs in as an instructor and opens the console from the home page's list of
    trainees' sessions (a new tab, as a trainer would)."""
    home = await new_page(browser, 1366, 900)
    await home.goto(f"{orchestrator.base_url}/#token={orchestrator.token('instructor', 'mia')}")
    row = home.locator(f"#trainee-session-list li[data-session='{session_id}']")
    await expect(row.get_by_role("link", name="Review")).to_be_visible()
    async with home.context.expect_page() as opened:
        await row.get_by_role("link", name="Instruct").click()
    return await opened.value


class Gate:
    """Holds a page's requests to one address. While it holds, each request still
    reaches the server when the page makes it, but its answer reaches the page only
    when the test lets it go: an answer overtaken on the way, made certain."""

    def __init__(self) -> None:
        self.holding = False
        self.held: asyncio.Queue[tuple[Route, APIResponse]] = asyncio.Queue()

    async def handle(self, route: Route) -> None:
        if not self.holding:
            await route.continue_()
            return
        answer = await route.fetch()  # what the server says now
        await self.held.put((route, answer))

    async def one_held(self) -> tuple[Route, APIResponse]:
        return await asyncio.wait_for(self.held.get(), 60)

    async def let_go(self) -> None:
        """Stop holding, and deliver every held answer, oldest first."""
        self.holding = False
        while not self.held.empty():
            route, answer = self.held.get_nowait()
            await route.fulfill(response=answer)


async def scenario_time(console: Page) -> float:
    snapshot: dict[str, Any] = await until(console, SNAPSHOT, bool, 10, "a scenario snapshot")
    return float(snapshot["t"])


async def test_the_instructor_directs_the_scenario_and_the_trainee_sees_each_step(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    trainee = await new_page(browser)
    session = await start_session(trainee, orchestrator, "jo", SCENARIO)
    console = await open_console_from_home(browser, orchestrator, session["id"])
    await expect(
        console.get_by_role("heading", name="Gas leak in a warehouse: evacuate")
    ).to_be_visible()
    await expect(console.locator("#objectives li").first).to_be_visible()
    await expect(console.locator("#live-state")).to_have_text("Running", timeout=20_000)
    # The console shows the trainee's picture too.
    await until(console, REPORT, lambda r: bool(r) and r["framesDecoded"] > 20, 45, "live view")
    # The scenario's own caption comes at 20 s ("leak-starts"): let it come first, so it
    # can never replace the captions of the events below, however slow the machine.
    await expect(console.locator("#live-fired")).to_contain_text("leak-starts", timeout=45_000)

    caption = trainee.locator("#stage [data-role=caption]")
    event = console.get_by_role("button", name="Colleague stays put")
    await expect(event).to_have_attribute("title", re.compile(r"^The colleague keeps working\."))
    await event.click()
    await expect(console.locator("#status")).to_contain_text("Sent “Colleague stays put”")
    await expect(caption).to_have_text(COWORKER_CAPTION)
    await expect(caption).to_have_attribute("aria-live", "polite")
    await expect(console.locator("#live-fired")).to_contain_text("coworker-stays")
    await expect(console.locator("#live-caption")).to_contain_text("Your colleague has not moved.")

    # "Gas spreads" thickens the haze: the trainee's picture itself changes.
    noise = difference(await settled_grab(trainee), await settled_grab(trainee))
    before = await settled_grab(trainee)
    await console.get_by_role("button", name="Gas spreads").click()
    await expect(caption).to_have_text("The haze is getting thicker. Get out now.")
    await until(  # the fog thickens over 3 s
        console, SNAPSHOT, lambda s: bool(s) and s["fog_density"] == 0.45, 20, "the thick fog"
    )
    changed = difference(before, await settled_grab(trainee))
    assert changed > max(4 * noise, 6), f"the haze changed {changed:.1f} (noise {noise:.1f})"

    await console.get_by_role("button", name="Pause", exact=True).click()
    banner = trainee.locator("#stage [data-role=paused]")
    await expect(banner).to_have_text("Paused by the instructor")
    await expect(banner).to_be_visible()
    await expect(console.locator("#live-state")).to_have_text("Paused")
    await expect(console.get_by_role("button", name="Pause", exact=True)).to_be_disabled()
    await screenshot(trainee, "scenario-paused")
    held = await scenario_time(console)
    await console.wait_for_timeout(1500)  # time must pass to stand still: beyond a 1 s poll
    assert await scenario_time(console) == held, "scenario time stands still while paused"
    report = await trainee.evaluate(REPORT)
    assert report["scenario"]["paused"] is True

    await console.get_by_role("button", name="Resume", exact=True).click()
    await expect(banner).to_be_hidden()
    await expect(console.locator("#live-state")).to_have_text("Running")
    await until(console, SNAPSHOT, lambda s: bool(s) and s["t"] > held + 0.5, 10, "time running")
    await console.evaluate("window.scrollTo(0, 0)")
    await screenshot(console, "instructor")

    await console.locator("#outcome").select_option("partial")
    await console.locator("#end-message").fill("Tell your colleague to leave before you go.")
    await console.get_by_role("button", name="End session").click()
    await expect(
        trainee.get_by_role("heading", name="Scenario complete, with points to go over.")
    ).to_be_visible(timeout=20_000)
    await expect(trainee.locator("#ended-outcome")).to_have_text(
        "Tell your colleague to leave before you go."
    )
    await expect(console.get_by_role("heading", name="The scenario ended: Partial.")).to_be_visible(
        timeout=20_000
    )
    review = console.get_by_role("link", name="Open the after-action review")
    await expect(review).to_have_attribute("href", f"review.html?session={session['id']}")
    await eventually(
        lambda: orchestrator.session(session["id"])["state"] == "ended",
        15,
        "ending the scenario ends the session",
        interval_s=0.2,
    )


async def test_the_console_shows_the_apis_refusal_for_a_session_without_a_scenario(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    with orchestrator.api("instructor") as api:
        session = api.post(
            "/v1/sessions?wait=true", json={"client": "browser", "scenario": "test-pattern"}
        ).json()
    console = await open_console(browser, orchestrator, session["id"])
    await expect(console.locator("#no-document")).to_be_visible()
    await expect(console.locator("#events-none")).to_be_visible()
    status = console.locator("#status")
    await expect(status).to_have_attribute("role", "status")
    await expect(status).to_contain_text("The scenario's state is not available:")
    await console.get_by_role("button", name="Pause", exact=True).click()
    await expect(status).to_contain_text("Refused:")
    await expect(status).to_have_attribute("data-tone", "error")


async def test_a_trainee_is_not_offered_the_controls(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    with orchestrator.api("trainee") as api:  # the trainee's own session
        session = api.post(
            "/v1/sessions?wait=true", json={"client": "browser", "scenario": "test-pattern"}
        ).json()
        refused = api.post(
            f"/v1/sessions/{session['id']}/scenario/commands", json={"command": "pause"}
        )
    assert refused.status_code == 403, "the API refuses a trainee, whatever a page offers"
    page = await new_page(browser)
    token = orchestrator.token("trainee")
    await page.goto(f"{orchestrator.base_url}/instruct.html?session={session['id']}#token={token}")
    await expect(page.get_by_role("heading", name="This page is for instructors.")).to_be_visible()
    await expect(page.get_by_role("button", name="Pause", exact=True)).to_be_hidden()
    await expect(page.get_by_role("button", name="End session")).to_be_hidden()


async def test_before_the_trainee_joins_the_console_says_so_and_what_to_do(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    with orchestrator.api("trainee") as api:
        created = api.post("/v1/sessions", json={"scenario": SCENARIO})
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]

        def ready() -> bool:
            return bool(api.get(f"/v1/sessions/{session_id}").json()["state"] == "ready")

        await eventually(ready, 60, "the session ready, with nobody connected")
    console = await open_console(browser, orchestrator, session_id)
    await expect(console.locator("#live-state")).to_have_text("Waiting for the trainee to connect")
    advice = console.locator("#live-advice")
    await expect(advice).to_be_visible()
    await expect(advice).to_contain_text("has not joined the scene yet")
    await expect(console.locator("#events button").first).to_be_disabled()
    await expect(console.locator("#pause")).to_be_disabled()


async def test_an_answer_overtaken_on_the_way_never_undoes_a_pause_or_an_end(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    """The console fetches the scenario's state after each log pull, and a fetch made
    just before a command can land just after the command's answer. It must not bring
    back "Running" after a pause, nor forget the outcome after the end: the heading
    then said "The session has ended." instead of how the scenario ended (a CI run saw
    it). Here the late answer is certain: the test holds it until the command's own
    answer has been shown, and holds the session's refetch while it lands."""
    trainee = await new_page(browser)
    session = await start_session(trainee, orchestrator, "jo", SCENARIO)
    sid = session["id"]
    console = await open_console(browser, orchestrator, sid)
    state = console.locator("#live-state")
    await expect(state).to_have_text("Running", timeout=20_000)
    snapshots, sessions = Gate(), Gate()
    await console.route(f"{orchestrator.base_url}/v1/sessions/{sid}/scenario", snapshots.handle)
    await console.route(f"{orchestrator.base_url}/v1/sessions/{sid}", sessions.handle)

    def overtaken(message: Any) -> bool:
        return "arrived late" in str(message.text)

    # A pause, overtaken by a snapshot from before it.
    snapshots.holding = True
    route, before_pause = await snapshots.one_held()  # a fetch after a log pull
    assert (await before_pause.json())["paused"] is False
    await console.get_by_role("button", name="Pause", exact=True).click()
    await expect(state).to_have_text("Paused")
    snapshots.holding = False
    async with console.expect_console_message(overtaken, timeout=30_000):
        await route.fulfill(response=before_pause)
    await expect(state).to_have_text("Paused")
    await expect(console.locator("#resume")).to_be_enabled()

    await console.get_by_role("button", name="Resume", exact=True).click()
    await expect(state).to_have_text("Running")

    # The end, overtaken by a snapshot from before it, while the page asks how the
    # session stands (it ended with the scenario).
    snapshots.holding = True
    route, before_end = await snapshots.one_held()
    assert (await before_end.json())["outcome"] is None
    sessions.holding = True
    await console.locator("#outcome").select_option("partial")
    await console.locator("#end-message").fill("Go over the exits.")
    await console.get_by_role("button", name="End session").click()
    await until(console, "window.ixClient.snapshot.outcome", bool, 30, "the end's answer shown")
    await sessions.one_held()  # the page heard the session end and asked how it stands
    snapshots.holding = False
    async with console.expect_console_message(overtaken, timeout=30_000):
        await route.fulfill(response=before_end)
    await sessions.let_go()
    await expect(console.get_by_role("heading", name="The scenario ended: Partial.")).to_be_visible(
        timeout=30_000
    )
    await expect(console.locator("#ended-text")).to_contain_text("Go over the exits.")
