"""The client's bindings (clients/web/js/bindings.js) against the real stack: the E key
on the desktop and a controller's trigger in VR reach the running scenario as `act`
`use`, which the streamer executes and writes into the session's after-action log. The
streamer knows no keys: if the client did not send `act`, nothing would be logged.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Browser

from tests.waiting import eventually
from tests.web.conftest import Orchestrator, new_page, start_session, until
from tests.web.test_xr import HEADSET, enter_vr

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(150)]

SCENARIO = "gas-leak-warehouse"


async def wait_for_acts(
    orchestrator: Orchestrator, session_id: str, timeout_s: float = 20
) -> list[Any]:
    """The `act` entries of the session's after-action log, once there is one. Waits on
    the event loop, so the browser's Playwright connection keeps being served."""
    acts: list[Any] = []
    with orchestrator.api("instructor") as api:

        def logged() -> bool:
            response = api.get(f"/v1/sessions/{session_id}/aar").raise_for_status()
            entries = [json.loads(line) for line in response.text.splitlines() if line.strip()]
            acts[:] = [e for e in entries if e["kind"] == "act"]
            return bool(acts)

        await eventually(logged, timeout_s, f"an act in the log of {session_id}", interval_s=0.2)
    return acts


async def test_pressing_e_uses_what_the_trainee_looks_at(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    session = await start_session(page, orchestrator, "erin", SCENARIO)
    await page.locator("#stage video").focus()
    await page.keyboard.press("KeyE")
    acts = await wait_for_acts(orchestrator, session["id"])
    assert [a["action"] for a in acts] == ["use"]


async def test_a_controllers_trigger_uses_what_the_trainee_looks_at_in_vr(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    session = await enter_vr(page, orchestrator, "theo", SCENARIO)
    await until(page, f"{HEADSET}.scenario", bool, 20, "the scenario's first notice")
    await page.evaluate("window.ixTestXRDevice.controllers.right.updateButtonValue('trigger', 1)")
    acts = await wait_for_acts(orchestrator, session["id"])
    assert [a["action"] for a in acts] == ["use"]
