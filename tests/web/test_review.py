"""The after-action review (clients/web/review.html, js/review.js, js/aar.js) against the
real stack: a trainee walks into the gas-leak scenario's danger zone, the instructor
fires an event and ends the run, and the review draws the path, the zones (the one that
fired highlighted), numbered event markers and the timeline from the session's real
after-action log. A missing log and a trainee's sign-in are explained.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.waiting import wait_until
from tests.web.conftest import Orchestrator, new_page, screenshot, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(240)]

SCENARIO = "gas-leak-warehouse"
ZONES = {"too-close-to-leak", "out-north", "out-south"}


def log_entries(api: httpx.Client, session_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/sessions/{session_id}/aar").raise_for_status()
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def wait_for_entry(
    api: httpx.Client, session_id: str, kind: str, timeout_s: float = 20, **fields: str
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []

    def logged() -> bool:
        nonlocal entries
        entries = log_entries(api, session_id)
        return any(
            e["kind"] == kind and all(e.get(k) == v for k, v in fields.items()) for e in entries
        )

    wait_until(
        logged,
        timeout_s,
        lambda: f"{kind} {fields} in the log; logged: {[e['kind'] for e in entries]}",
        interval_s=0.2,
    )
    return entries


async def test_the_review_plots_the_trainees_path_through_the_zones(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    trainee = await new_page(browser)
    session = await start_session(trainee, orchestrator, "ana", SCENARIO)
    sid = session["id"]
    # From the start (0, 2) facing +z, walk ~4 m into the leak's zone (centre (2.5, 7),
    # radius 3), short of the south exit, then sidestep.
    await trainee.locator("#stage video").focus()
    await trainee.keyboard.down("KeyW")
    await trainee.wait_for_timeout(2600)  # a held key walks at a speed: time is the input
    await trainee.keyboard.up("KeyW")
    await trainee.keyboard.down("KeyA")
    await trainee.wait_for_timeout(1200)  # the same for the sidestep
    await trainee.keyboard.up("KeyA")
    with orchestrator.api("instructor") as api:
        wait_for_entry(api, sid, "trigger_fired", trigger="too-close-to-leak")
        commands = f"/v1/sessions/{sid}/scenario/commands"
        event = {"command": "event", "event": "coworker-freezes"}
        api.post(commands, json=event).raise_for_status()
        wait_for_entry(api, sid, "trigger_fired", trigger="coworker-stays")
        api.post(
            commands,
            json={"command": "end", "outcome": "failure", "message": "Walked into the gas."},
        ).raise_for_status()
        entries = wait_for_entry(api, sid, "scenario_ended")
    poses = sum(1 for e in entries if e["kind"] == "pose")

    review = await new_page(browser, 1366, 1000)
    token = orchestrator.token("instructor", "mia")
    await review.goto(f"{orchestrator.base_url}/review.html?session={sid}#token={token}")
    await expect(
        review.get_by_role("heading", name="Gas leak in a warehouse: evacuate")
    ).to_be_visible()
    plot = review.locator("#plot svg.floor-plan")
    await expect(plot).to_be_visible()
    await expect(plot).to_have_attribute("role", "img")

    trail = plot.locator("path.trail")
    points = int(await trail.get_attribute("data-points") or 0)
    d = await trail.get_attribute("d") or ""
    assert points > 10, f"only {points} positions on the path"
    assert points >= poses, "every logged pose is on the path"
    assert d.count("L") == points - 1

    zones = plot.locator("g.zone")
    await expect(zones.locator("circle")).to_have_count(len(ZONES))
    shown = {await zones.nth(i).get_attribute("data-trigger") for i in range(len(ZONES))}
    assert shown == ZONES
    await expect(plot.locator("g.zone.fired")).to_have_count(1)
    await expect(plot.locator("g.zone.fired")).to_have_attribute(
        "data-trigger", "too-close-to-leak"
    )
    await expect(plot.locator("g.zone.fired text")).to_have_text("too-close-to-leak")
    await expect(plot.locator("g.start circle")).to_have_count(1)
    # too-close-to-leak fired, the instructor acted, coworker-stays fired, the instructor ended.
    assert await plot.locator("g.marker").count() >= 3
    await expect(plot.locator("g.marker.instructor").first).to_be_visible()
    metres = await plot.locator(".scale-bar").get_attribute("data-metres")
    await expect(plot.locator(".scale-bar text")).to_have_text(f"{metres} m")
    await expect(plot.locator(".axis-title")).to_have_text(["x (m)", "z (m)"])

    timeline = review.locator("#timeline")
    await expect(timeline.locator("tr[data-kind=scenario_started]")).to_have_count(1)
    await expect(timeline.locator("tr[data-kind=scenario_ended]")).to_contain_text(
        "failure: Walked into the gas."
    )
    # (On a slow machine the scenario's own 20 s trigger, leak-starts, may come first.)
    fired = timeline.locator("tr[data-kind=trigger_fired]")
    await expect(fired.filter(has_text="too-close-to-leak (entered its zone)")).to_have_count(1)
    assert await timeline.locator("tr[data-kind=pose]").count() < poses, "poses are summarised"
    await expect(review.locator("#s-outcome")).to_have_text("Failure")
    download = review.get_by_role("link", name="Download the raw log")
    assert (await download.get_attribute("href") or "").startswith("blob:")
    assert await download.get_attribute("download") == f"aar-{sid}.jsonl"
    await screenshot(review, "review")


async def test_the_review_explains_a_missing_log_and_turns_away_a_trainee(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    token = orchestrator.token("instructor", "mia")
    await page.goto(f"{orchestrator.base_url}/review.html?session=s-unknown#token={token}")
    await expect(
        page.get_by_role("heading", name="There is no after-action log for this session.")
    ).to_be_visible()

    trainee = await new_page(browser)
    token = orchestrator.token("trainee", "lee")
    await trainee.goto(f"{orchestrator.base_url}/review.html?session=s-unknown#token={token}")
    refused = trainee.get_by_role("heading", name="This page is for instructors.")
    await expect(refused).to_be_visible()
    await expect(trainee.locator("#plot svg")).to_have_count(0)
