"""A real browser as the viewer: headless Chromium does WHEP against a streamer and decodes.

Chromium's own WebRTC stack (not aiortc) negotiates, receives and decodes both
codecs, including VP8 from a streamer that prefers H.264; `getStats` counts the
decoded frames (requestVideoFrameCallback under-reports in headless Chromium,
FIELD-NOTES trap 13).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser import chromium
from tests.conftest import StreamerProcess
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(180)]


async def decoded_stats(page: Any, at_least: int, timeout_s: float = 60) -> dict[str, Any]:
    stats: dict[str, Any] = {}

    async def decoded() -> bool:
        nonlocal stats
        error = await page.evaluate("window.ixError || null")
        assert error is None, error
        stats = await page.evaluate("window.ixStats ? window.ixStats() : null") or {}
        return bool(stats.get("framesDecoded", 0) >= at_least)

    await eventually(
        decoded,
        timeout_s,
        lambda: f"Chromium decoding {at_least} frames (only {stats.get('framesDecoded', 0)})",
        interval_s=0.1,
    )
    return stats


@pytest.mark.parametrize("codec", ["h264", "vp8"])
async def test_chromium_decodes_the_stream(
    streamer_factory: Callable[..., StreamerProcess], codec: str
) -> None:
    streamer = streamer_factory(
        "--codec", codec, "--width", "640", "--height", "360", "--fps", "30"
    )
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{streamer.base_url}/?codec={codec}#token={streamer.token()}")
        stats = await decoded_stats(page, at_least=60)
        assert stats["codec"].lower() == f"video/{codec}"
        assert (stats["frameWidth"], stats["frameHeight"]) == (640, 360)
        assert stats["lastFrame"] is not None  # the frames channel reached the page too
    await eventually(  # a closed tab is released, with or without DELETE
        lambda: streamer.status()["viewers"] == 0,
        10,
        "the closed browser's viewer released",
        interval_s=0.2,
    )


async def test_chromium_forced_to_vp8_plays_from_an_h264_streamer(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    # The page's codec preferences leave VP8 only in its offer (FIELD-NOTES trap 7);
    # the streamer prefers H.264 (the default) and must answer with VP8, not refuse.
    streamer = streamer_factory("--width", "640", "--height", "360", "--fps", "30")
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{streamer.base_url}/?codec=vp8#token={streamer.token()}")
        stats = await decoded_stats(page, at_least=60)
        assert stats["codec"].lower() == "video/vp8"
        assert (stats["frameWidth"], stats["frameHeight"]) == (640, 360)
        assert stats["lastFrame"] is not None
    assert streamer.metric("ixstream_streamer_frames_encoded_total", codec="vp8") >= 60
