"""Viewers of different codecs on one streamer: each gets a codec it offered, encoded once.

A real streamer process (H.264 preferred, the default) and real aiortc viewers
on loopback: an H.264 viewer and a VP8-only viewer both decode moving
pictures; with two viewers of each codec there are two encoders, and each
encodes every rendered frame once (not once per viewer); a VP8 viewer's
keyframe request costs the H.264 viewers nothing; the VP8 encoder closes when
its last viewer leaves; a recording stays in the session's codec while only a
VP8 viewer watches; an offer with no codec we send gets 406 naming both lists.
Chromium forced to VP8 is in test_browser_viewer.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from ixclient.viewer import ViewerClient
from streamer.auth import mint_token
from tests.conftest import StreamerProcess
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

Factory = Callable[..., StreamerProcess]
SMALL = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30")
OFFERS = Path(__file__).parent / "rtc" / "offers"


def luma(viewer_frame: object) -> np.ndarray:
    frame = viewer_frame.frame  # type: ignore[attr-defined]
    return np.asarray(frame.to_ndarray(format="gray"), dtype=np.float32)


async def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    await eventually(check, timeout_s, what, interval_s=0.2)


async def moving_pictures(viewer: ViewerClient) -> tuple[float, float]:
    """(mean luma, mean change) between two decoded frames a second apart."""
    first = luma(await viewer.wait_for_frame(timeout_s=20))
    await asyncio.sleep(1.0)  # time is the input: the pattern moves a known amount a second
    later = luma(await viewer.wait_for_frame(timeout_s=10))
    return float(later.mean()), float(np.mean(np.abs(later - first)))


async def test_an_h264_viewer_and_a_vp8_only_viewer_both_see_moving_pictures(
    streamer_factory: Factory,
) -> None:
    streamer = streamer_factory(*SMALL)  # --codec h264, the default
    h264 = ViewerClient(streamer.whep_url, token=streamer.token("trainee"), codec="h264")
    vp8 = ViewerClient(streamer.whep_url, token=streamer.token("spectator"), codec="vp8")
    async with h264, vp8:  # the VP8 viewer's offer lists VP8 only
        for viewer, codec in ((h264, "h264"), (vp8, "vp8")):
            brightness, change = await moving_pictures(viewer)
            assert (await viewer.wait_for_hello()).codec == codec
            assert brightness > 40, f"{codec}: the picture is black"
            assert change > 5, f"{codec}: the picture does not move"
    assert streamer.metric("ixstream_streamer_frames_encoded_total", codec="vp8") > 0


async def test_two_codecs_cost_two_encoders_whatever_the_number_of_viewers(
    streamer_factory: Factory,
) -> None:
    streamer = streamer_factory(*SMALL)
    async with AsyncExitStack() as stack:
        viewers = {
            codec: [
                await stack.enter_async_context(
                    ViewerClient(streamer.whep_url, token=streamer.token("spectator"), codec=codec)
                )
                for _ in range(2)
            ]
            for codec in ("h264", "vp8")
        }
        for viewer in [v for vs in viewers.values() for v in vs]:
            await viewer.wait_for_frame(timeout_s=20)

        def counts() -> tuple[float, float, float]:
            return (
                streamer.metric("ixstream_streamer_frames_rendered_total"),
                streamer.metric("ixstream_streamer_frames_encoded_total", codec="h264"),
                streamer.metric("ixstream_streamer_frames_encoded_total", codec="vp8"),
            )

        before = counts()
        await asyncio.sleep(2.0)  # time is the input: frames rendered and encoded over it
        after = counts()
        assert streamer.metric("ixstream_streamer_encoders_open", codec="h264") == 1
        assert streamer.metric("ixstream_streamer_encoders_open", codec="vp8") == 1
        rendered, h264, vp8 = (a - b for a, b in zip(after, before, strict=True))
        assert rendered > 20
        for encoded in (h264, vp8):  # once per rendered frame, give or take the scrape
            assert rendered - 3 <= encoded <= rendered + 3, (rendered, h264, vp8)

        before_h264 = streamer.metric(
            "ixstream_streamer_keyframes_forced_total", reason="pli", codec="h264"
        )
        await viewers["vp8"][0].request_keyframe()
        await wait_for(
            lambda: (
                streamer.metric(
                    "ixstream_streamer_keyframes_forced_total", reason="pli", codec="vp8"
                )
                >= 1
            ),
            "the VP8 viewer's keyframe request",
        )
        after_h264 = streamer.metric(
            "ixstream_streamer_keyframes_forced_total", reason="pli", codec="h264"
        )
        assert after_h264 == before_h264

        for viewer in viewers["vp8"]:
            await viewer.close()
        await wait_for(
            lambda: streamer.metric("ixstream_streamer_encoders_open", codec="vp8") == 0,
            "the VP8 encoder to close after its last viewer left",
        )
        before_vp8 = streamer.metric("ixstream_streamer_frames_encoded_total", codec="vp8")
        for viewer in viewers["h264"]:  # the H.264 viewers stream on
            await viewer.wait_for_frame(timeout_s=10)
        assert streamer.metric("ixstream_streamer_frames_encoded_total", codec="vp8") == before_vp8


def test_an_offer_with_no_codec_we_send_is_refused_with_406_naming_both_lists(
    streamer_factory: Factory,
) -> None:
    streamer = streamer_factory(*SMALL)
    offer = (OFFERS / "chromium-vp9-av1-only.sdp").read_text()  # captured from Chromium
    response = httpx.post(
        streamer.whep_url,
        content=offer,
        headers={
            "Content-Type": "application/sdp",
            "Authorization": f"Bearer {streamer.token()}",
        },
        timeout=10,
    )
    assert response.status_code == 406
    assert response.text.strip() == "the offer lists VP9, AV1; this streamer sends H264, VP8"
    assert streamer.status()["viewers"] == 0


async def test_the_recording_stays_in_the_sessions_codec_while_only_vp8_viewers_watch(
    streamer_factory: Factory, tmp_path: Path
) -> None:
    streamer = streamer_factory(*SMALL)
    token = mint_token(streamer.secret, "orchestrator", streamer.session_id, subject="orch")
    async with httpx.AsyncClient(
        base_url=streamer.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as control:
        setup = await control.put("/v1/scenario", json={"scenario": None, "record": True})
        assert setup.status_code == 200, setup.text
        async with ViewerClient(streamer.whep_url, token=streamer.token(), codec="vp8") as viewer:
            await viewer.wait_for_frame(timeout_s=20)
            hello = await viewer.wait_for_hello(timeout_s=20)
            await asyncio.sleep(1.5)  # time is the input: a second and a half recorded
            assert hello.codec == "vp8"
        stop = await control.post("/v1/recording/stop")
        assert stop.status_code == 200, stop.text
        frames = stop.json()["frames"]
        response = await control.get("/v1/recording")
    assert frames > 20
    assert response.headers["content-type"] == "video/mp4"
    path = tmp_path / "session.mp4"
    path.write_bytes(response.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) == frames
