"""The trainee's stage (clients/web/js/stage.js with stream.js, input.js, overlay.js)
against a real orchestrator and streamer: input changes the rendered picture, the
stats overlay shows live figures, a dead streamer is reported in words instead of a
frozen frame, a short network outage is ridden out, and ending a session releases it.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from playwright.async_api import Browser, expect

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

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(120)]

VIDEO = "#stage video"

#: A standard-mapping gamepad whose left stick is held forward while ixTestStick is 1.
PUSH_STICK_FORWARD = """() => {
  window.ixTestStick = 1;
  const pad = {
    id: "Test pad", index: 0, connected: true, mapping: "standard", timestamp: 0,
    get axes() { return [0, -window.ixTestStick, 0, 0]; },
    buttons: Array.from({ length: 17 }, () => ({ pressed: false, touched: false, value: 0 })),
  };
  navigator.getGamepads = () => [pad, null, null, null];
}"""


async def test_keyboard_and_mouse_input_change_the_rendered_picture(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    await start_session(page, orchestrator, "eve")
    still_a = await settled_grab(page)
    still_b = await settled_grab(page)
    noise = difference(still_a, still_b)  # the scene animates a little on its own

    await page.locator(VIDEO).focus()
    await page.keyboard.down("ArrowLeft")  # turn left at 90°/s
    await page.wait_for_timeout(700)  # a held key turns at a speed: time is the input
    await page.keyboard.up("ArrowLeft")
    turned = await settled_grab(page)
    by_keys = difference(still_b, turned)
    assert by_keys > max(4 * noise, 6), f"keys: {by_keys:.1f} vs noise {noise:.1f}"

    box = await page.locator(VIDEO).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()  # pointer lock where granted, drag-to-look where not
    for step in range(1, 11):
        await page.mouse.move(x + 30 * step, y + 4 * step)
        await page.wait_for_timeout(16)  # a drag, one move per display frame
    await page.mouse.up()
    looked = await settled_grab(page)
    by_mouse = difference(turned, looked)
    assert by_mouse > max(4 * noise, 6), f"mouse: {by_mouse:.1f} vs noise {noise:.1f}"
    # A gamepad's left stick walks (W3C Gamepad API, polled every animation frame).
    await page.evaluate(PUSH_STICK_FORWARD)
    await page.wait_for_timeout(800)  # a held stick walks at a speed: time is the input
    await page.evaluate("window.ixTestStick = 0")
    walked = await settled_grab(page)
    by_stick = difference(looked, walked)
    assert by_stick > max(4 * noise, 6), f"gamepad: {by_stick:.1f} vs noise {noise:.1f}"

    report = await page.evaluate(REPORT)
    assert report["seq"] > 0, "input ticks went out as pose samples"
    assert report["lastFrame"]["seq"] is not None, "the streamer applied them"


async def test_the_stats_overlay_shows_live_frame_rate_and_motion_to_photon(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    await start_session(page, orchestrator, "fay")
    await page.get_by_role("button", name="Stats").click()
    overlay = page.get_by_role("complementary", name="Connection statistics")
    await expect(overlay).to_be_visible()
    await page.locator(VIDEO).focus()
    for _ in range(3):  # walk a little: motion-to-photon is measured on input
        await page.keyboard.down("KeyW")
        await page.wait_for_timeout(400)  # held: time is the input
        await page.keyboard.up("KeyW")
        await page.wait_for_timeout(200)  # released: three steps, not one long walk
    fps = await until(
        page,
        "Number(document.querySelector('[data-stat=fps]').textContent)",
        lambda v: v and v > 0,
        what="a frame rate in the overlay",
    )
    m2p = await until(
        page,
        "document.querySelector('[data-stat=m2p]').textContent",
        lambda v: v.endswith(" ms"),
        what="a motion-to-photon figure in the overlay",
    )
    assert fps > 0
    assert 0 < float(m2p.removesuffix(" ms")) < 1000, m2p
    report = await page.evaluate(REPORT)
    assert report["m2p"] or report["lastM2p"] is not None
    await expect(page.locator("[data-stat=video]")).to_contain_text("640×360")
    await page.mouse.move(5, 5)  # show the top bar for the picture
    await screenshot(page, "viewer-with-stats")


async def test_a_killed_streamer_shows_a_clear_message_not_a_frozen_frame(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    session = await start_session(page, orchestrator, "gus")
    os.kill(orchestrator.streamer_pid(session["id"]), signal.SIGKILL)
    started = time.monotonic()
    await expect(
        page.get_by_role("heading", name="The simulation stopped unexpectedly.")
    ).to_be_visible(timeout=20_000)
    took = time.monotonic() - started
    await expect(page.get_by_text("not caused by anything you did")).to_be_visible()
    await expect(page.locator("#stage")).to_be_hidden()
    assert await page.evaluate(f"document.querySelector('{VIDEO}').srcObject") is None
    await screenshot(page, "session-failed")
    assert took < 15, f"the trainee stared at a frozen picture for {took:.1f} s"


async def test_the_viewer_rides_out_a_transient_network_drop(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    session = await start_session(page, orchestrator, "hal")
    pid = orchestrator.streamer_pid(session["id"])
    before = (await page.evaluate(REPORT))["framesDecoded"]
    os.kill(pid, signal.SIGSTOP)  # the stream goes silent, as on a dropped network
    try:
        await expect(page.locator("[data-role=message] [data-field=title]")).to_have_text(
            ["The picture has paused."], timeout=10_000
        )
        assert "dimmed" in (await page.locator("#stage").get_attribute("class") or "")
        await until(page, REPORT, lambda r: r["state"] == "reconnecting", 15, "a reconnection")
    finally:
        os.kill(pid, signal.SIGCONT)
    report = await until(
        page,
        REPORT,
        lambda r: r["state"] == "live" and r["framesDecoded"] > 30,
        45,
        "video again after the drop",
    )
    assert report["connections"] >= 2, "it renegotiated"
    assert before > 0
    assert report["framesDecoded"] > 30
    await expect(page.locator("[data-role=message]")).to_be_hidden()
    assert orchestrator.session(session["id"])["state"] == "active"


async def test_ending_the_session_releases_the_stream_and_the_station(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    session = await start_session(page, orchestrator, "ida")
    await page.mouse.move(10, 10)
    await page.get_by_role("button", name="End session").click()
    await expect(page.get_by_role("heading", name="Session ended")).to_be_visible()
    await expect(page.get_by_text("The training station has been released.")).to_be_visible()
    assert "session=" not in page.url
    await eventually(
        lambda: orchestrator.session(session["id"])["state"] == "ended",
        15,
        lambda: f"the session ended: {orchestrator.session(session['id'])}",
        interval_s=0.2,
    )
