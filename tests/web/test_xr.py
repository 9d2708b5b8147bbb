"""The headset client (clients/web/js/xr.js with reprojection.js and xr-renderer.js)
under Meta's WebXR emulation runtime (iwer, injected as a Quest 3) against a real
orchestrator and streamer: Enter VR starts a side-by-side stereo session sized for the
emulated eyes, head poses flow on the input channel every XR frame, and turning the
head is corrected at once by reprojection, then followed by newly rendered frames.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.web.conftest import (
    REPORT,
    Orchestrator,
    install_iwer,
    new_page,
    playing,
    screenshot,
    until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(150)]

HEADSET = "window.ixClient.headset"

#: Turns the emulated head by `degrees` (yaw, left positive) and returns the next XR
#: frame as drawn, downsampled to 64×36, with the correction reprojection applied.
TURN_AND_CAPTURE = """(degrees) => new Promise((resolve) => {
  const headset = window.ixClient.headset;
  const device = window.ixTestXRDevice;
  const half = (degrees * Math.PI / 180) / 2;
  device.quaternion.set(0, Math.sin(half), 0, Math.cos(half));
  headset.afterDraw = (gl) => {
    headset.afterDraw = null;
    resolve({ pixels: readDown(gl), correction: headset.lastCorrectionDeg });
  };
  function readDown(gl) {
    const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
    const all = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, all);
    const out = [];
    for (let y = 0; y < 36; y++) for (let x = 0; x < 64; x++) {
      const i = (Math.floor((35 - y) * h / 36) * w + Math.floor(x * w / 64)) * 4;  // top row first
      out.push(all[i], all[i + 1], all[i + 2]);
    }
    resolve.pixels = out;
    return out;
  }
})"""


def column_brightness(pixels: list[int], x: int) -> float:
    """Mean brightness of column `x` of a 64×36 RGB capture."""
    values = [sum(pixels[(y * 64 + x) * 3 : (y * 64 + x) * 3 + 3]) / 3 for y in range(36)]
    return sum(values) / len(values)


def mean_difference(a: list[int], b: list[int]) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


async def enter_vr(
    page: Page, orchestrator: Orchestrator, subject: str, scenario: str | None = None
) -> dict[str, Any]:
    await install_iwer(page)
    await page.goto(f"{orchestrator.base_url}/#token={orchestrator.token('trainee', subject)}")
    if scenario is not None:
        await page.locator(f"input[name=scenario][value='{scenario}']").check()
    enter = page.get_by_role("button", name="Enter VR")
    await expect(enter).to_be_visible()
    await enter.click()
    await playing(page, frames=30, timeout_s=60)
    await until(page, f"{HEADSET}.drawnVideoFrames", lambda n: n > 10, what="video drawn in VR")
    session: dict[str, Any] = await page.evaluate("window.ixClient.session")
    return session


async def test_enter_vr_streams_stereo_sized_for_the_eyes_and_sends_poses(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    session = await enter_vr(page, orchestrator, "vera")

    # iwer's Quest 3 draws into the 1280×720 page: two 640×720 eyes side by side.
    viewport = await page.evaluate(
        "(() => { const s = window.ixTestXRDevice.activeSession; const l = s.renderState.baseLayer;"
        " return [l.framebufferWidth, l.framebufferHeight]; })()"
    )
    assert session["client"] == "headset"
    assert (session["width"], session["height"]) == (viewport[0], viewport[1])
    report = await page.evaluate(REPORT)
    assert report["hello"]["stereo"] is True
    assert (report["videoWidth"], report["videoHeight"]) == (session["width"], session["height"])

    # Poses flow every XR frame and the streamer applies them (the frame echoes the seq).
    first = await page.evaluate(f"{HEADSET}.seq")
    await page.wait_for_timeout(1000)  # a rate: real time must pass, one second of XR frames
    sent = await page.evaluate(f"{HEADSET}.seq")
    assert sent - first >= 10, f"only {sent - first} pose samples in a second"
    applied = await until(
        page,
        f"({REPORT}).lastFrame.seq",
        lambda s: s is not None and s > first,
        what="poses applied",
    )
    # Read the counter after the frame: poses keep flowing while we wait, and a frame
    # may echo one sent after `sent` was read. It can never echo one not yet sent.
    assert applied <= await page.evaluate(f"{HEADSET}.seq")
    received = orchestrator.streamer_metric(
        session["id"], "ixstream_streamer_messages_received_total", channel="input"
    )
    assert received >= sent - first
    for reason in ("invalid", "not_json", "oversized", "unknown_type", "bad_version", "not_object"):
        dropped = orchestrator.streamer_metric(
            session["id"], "ixstream_streamer_messages_dropped_total", reason=reason
        )
        assert dropped == 0, f"the streamer dropped {dropped:.0f} of our messages as {reason}"
    await screenshot(page, "headset")  # what iwer shows of the XR layer: both eyes
    eyes = await page.evaluate(f"{HEADSET}.sentEyes")
    assert eyes is not None, "xr_views went out once the channel opened"
    assert len(eyes) == 2
    assert eyes[0]["offset"][0] < 0 < eyes[1]["offset"][0], "left eye first"


async def test_turning_the_head_is_reprojected_at_once_then_rerendered(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    page = await new_page(browser)
    await enter_vr(page, orchestrator, "walt")
    still = await until(  # the picture has caught up with the head: nothing to correct
        page, f"({TURN_AND_CAPTURE})(0)", lambda r: r["correction"] < 1, 20, "a still view"
    )
    assert still["correction"] < 1

    turned = await page.evaluate(TURN_AND_CAPTURE, 20)
    # The frame on screen was rendered for the old pose: it is turned by the full 20°.
    assert math.isclose(turned["correction"], 20, abs_tol=2), turned["correction"]
    # Turned left, the picture slides right: the left eye's left edge shows the dark rim
    # where the old frame has no pixels, and the picture differs from before.
    rim = column_brightness(turned["pixels"], 1)
    assert rim < 20, f"no rim at the left edge (brightness {rim:.0f})"
    assert column_brightness(still["pixels"], 1) > rim + 5
    assert mean_difference(still["pixels"], turned["pixels"]) > 5

    # Frames rendered for the new pose arrive: the correction shrinks back to ~0°.
    await until(
        page,
        f"{HEADSET}.lastCorrectionDeg",
        lambda d: d < 2,
        20,
        "frames rendered for the new head pose",
    )
    settled = await page.evaluate(TURN_AND_CAPTURE, 20)
    assert column_brightness(settled["pixels"], 1) > rim + 5, "the rim is gone once rerendered"
    assert mean_difference(still["pixels"], settled["pixels"]) > 5, "the world turned"


#: The left eye's panel area (NDC x ±0.62, y -0.78..-0.42 of a 640×720 eye), read as the
#: mean of each channel over a 40×12 grid, after the next XR frame is drawn.
PANEL_PIXELS = """() => new Promise((resolve) => {
  const headset = window.ixClient.headset;
  headset.afterDraw = (gl) => {
    headset.afterDraw = null;
    const w = gl.drawingBufferWidth / 2, h = gl.drawingBufferHeight;
    const x0 = Math.round(w * 0.2), y0 = Math.round(h * 0.12);
    const width = Math.round(w * 0.6), height = Math.round(h * 0.15);
    const all = new Uint8Array(width * height * 4);
    gl.readPixels(x0, y0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, all);
    const out = [];
    for (let gy = 0; gy < 12; gy++) for (let gx = 0; gx < 40; gx++) {
      const i = (Math.floor(gy * height / 12) * width + Math.floor(gx * width / 40)) * 4;
      out.push(all[i], all[i + 1], all[i + 2]);
    }
    resolve(out);
  };
})"""


async def test_the_scenarios_words_reach_the_headset_inside_vr(
    browser: Browser, orchestrator: Orchestrator
) -> None:
    """In VR the page's captions are invisible: the headset draws the scenario's caption,
    pause and outcome on a panel over the video, in both eyes."""
    page = await new_page(browser)
    session = await enter_vr(page, orchestrator, "paula", "gas-leak-warehouse")
    await until(page, f"{HEADSET}.scenario", bool, 20, "the scenario's first notice")
    before = await page.evaluate(PANEL_PIXELS)
    with orchestrator.api("instructor") as api:
        paused = api.post(
            f"/v1/sessions/{session['id']}/scenario/commands", json={"command": "pause"}
        )
    assert paused.status_code == 200, paused.text
    lines = await until(
        page,
        f"{HEADSET}.caption.lines",
        lambda shown: "Paused by the instructor" in shown,
        20,
        "the pause on the headset's panel",
    )
    assert lines[0] == "Paused by the instructor"
    await until(  # the panel is drawn into the XR layer
        page, PANEL_PIXELS, lambda after: mean_difference(before, after) > 3, 20, "the panel"
    )
    await screenshot(page, "headset-paused")
