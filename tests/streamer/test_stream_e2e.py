"""End to end: a real streamer process and the real headless client over WebRTC on loopback.

Covers both codecs at the target frame rate, the head pose reaching the
pixels, spectators sharing one encoded stream, and keyframe requests (PLI)
reaching our encoder through the aiortc hook.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

import numpy as np
import pytest

from ixclient.viewer import ViewerClient
from ixstream.protocol import EVENTS_CHANNEL, EyeParams, XrViewsEvent, encode
from tests.conftest import StreamerProcess
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

Factory = Callable[..., StreamerProcess]


@pytest.mark.parametrize("codec", ["h264", "vp8"])
async def test_the_scene_streams_at_the_target_rate(streamer_factory: Factory, codec: str) -> None:
    streamer = streamer_factory(
        "--codec", codec, "--width", "640", "--height", "360", "--fps", "30"
    )
    async with ViewerClient(streamer.whep_url, token=streamer.token(), codec=codec) as viewer:
        await viewer.wait_for_frame(timeout_s=20)
        await eventually(  # measure steady state, not the start
            lambda: viewer.measure.frames >= 15, 20, "half a second of frames"
        )
        viewer.measure.frames = 0
        viewer.measure.first_frame_ms = None
        report = await viewer.run(3.0)
    assert report["codec"] == codec
    assert report["frames"] >= 60
    assert report["fps"] == pytest.approx(30, rel=0.10)
    assert report["motion_to_photon_ms"]["samples"] > 30
    assert report["glass_to_glass_ms"]["samples"] > 30
    assert report["bytes"] > 10_000


def luma(viewer_frame: object) -> np.ndarray:
    frame = viewer_frame.frame  # type: ignore[attr-defined]
    return np.asarray(frame.to_ndarray(format="gray"), dtype=np.float32)


async def test_turning_the_head_changes_the_picture(streamer_factory: Factory) -> None:
    streamer = streamer_factory("--width", "320", "--height", "240", "--fps", "30")
    async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
        viewer.auto_move = False
        await viewer.wait_for_frame(timeout_s=20)
        await viewer.wait_for_channels()  # poses sent before they open are lost

        async def picture_at(yaw: float) -> np.ndarray:
            seq = 0
            for _ in range(3):  # unreliable channel: send a few samples
                seq = viewer.send_pose(yaw)
                await asyncio.sleep(0.02)  # paced like a headset's, so one loss is not all
            return luma(await viewer.wait_for_frame(min_seq=seq, timeout_s=10))

        ahead = await picture_at(0.0)
        ahead_again = await picture_at(0.0)
        left = await picture_at(math.pi / 2)
    same_view = float(np.mean(np.abs(ahead - ahead_again)))
    turned = float(np.mean(np.abs(ahead - left)))
    assert turned > 8.0, f"a 90° turn changed the mean luma by only {turned:.1f}"
    assert turned > 3 * same_view


async def test_spectators_get_the_same_encoded_stream_and_cannot_steer(
    streamer_factory: Factory,
) -> None:
    streamer = streamer_factory(
        "--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30"
    )
    trainee = ViewerClient(streamer.whep_url, token=streamer.token("trainee"))
    spectator = ViewerClient(streamer.whep_url, token=streamer.token("spectator"))
    async with trainee, spectator:
        await trainee.wait_for_frame(timeout_s=20)
        await spectator.wait_for_frame(timeout_s=20)
        assert (await trainee.wait_for_hello()).controls
        assert not (await spectator.wait_for_hello()).controls
        started = streamer.metric("ixstream_streamer_frames_encoded_total")
        await eventually(
            lambda: streamer.metric("ixstream_streamer_frames_encoded_total") >= started + 60,
            30,
            "two seconds of frames sent to both",
            interval_s=0.1,
        )
        encoded = streamer.metric("ixstream_streamer_frames_encoded_total")
        sent = streamer.metric("ixstream_streamer_frames_sent_total")
    assert sent > 1.7 * encoded * 0.9  # two viewers, one encode per frame
    assert streamer.metric("ixstream_streamer_messages_dropped_total", reason="view_only") > 10
    assert streamer.metric("ixstream_streamer_viewers", role="spectator") == 0  # both left


async def test_a_trainee_who_reconnects_drives_again(streamer_factory: Factory) -> None:
    streamer = streamer_factory(
        "--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30"
    )
    for _ in range(2):  # the second connection's sequence numbers start at 1 again
        async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
            viewer.auto_move = False
            await viewer.wait_for_frame(timeout_s=20)
            await viewer.wait_for_channels()
            for yaw in (0.1, 0.2, 0.3):
                seq = viewer.send_pose(yaw)
                applied = await viewer.wait_for_frame(min_seq=seq, timeout_s=5)
                assert applied.info is not None
                assert applied.info.seq == seq


async def test_a_keyframe_request_from_a_viewer_reaches_the_encoder(
    streamer_factory: Factory,
) -> None:
    streamer = streamer_factory(
        "--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "30"
    )
    async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
        await viewer.wait_for_frame(timeout_s=20)
        before = streamer.metric("ixstream_streamer_keyframes_forced_total", reason="pli")
        await viewer.request_keyframe()
        await eventually(
            lambda: (
                streamer.metric("ixstream_streamer_keyframes_forced_total", reason="pli") > before
            ),
            10,
            "the keyframe request reached the encoder",
            interval_s=0.1,
        )
        keyframes = [
            f
            for f in [await viewer.wait_for_frame(timeout_s=5) for _ in range(5)]
            if f.info is not None and f.info.keyframe
        ]
        after = streamer.metric("ixstream_streamer_keyframes_forced_total", reason="pli")
    assert after == before + 1
    assert keyframes or after > before


async def test_a_stereo_stream_carries_both_eyes_side_by_side(streamer_factory: Factory) -> None:
    streamer = streamer_factory("--stereo", "--width", "640", "--height", "240", "--fps", "30")
    async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
        viewer.auto_move = False
        first = await viewer.wait_for_frame(timeout_s=20)
        await viewer.wait_for_channels()
        assert (await viewer.wait_for_hello()).stereo
        assert (first.frame.width, first.frame.height) == (640, 240)
        seq = viewer.send_pose(0.0)
        picture = luma(await viewer.wait_for_frame(min_seq=seq, timeout_s=10))
        left, right = picture[:, :320], picture[:, 320:]
        parallax = float(np.mean(np.abs(left - right)))
        cyclops = EyeParams(offset=(0.0, 0.0, 0.0), fov=(1.0, 1.0, 1.0, 1.0))
        assert viewer.send_raw(EVENTS_CHANNEL, encode(XrViewsEvent(eyes=(cyclops, cyclops))))
        assert parallax > 2.0  # the eyes see the scene from different places
        difference: list[float] = []

        async def halves_match() -> bool:  # events and input are separate channels
            seq = viewer.send_pose(0.0)
            same = luma(await viewer.wait_for_frame(min_seq=seq, timeout_s=10))
            difference.append(float(np.mean(np.abs(same[:, :320] - same[:, 320:]))))
            return difference[-1] < parallax / 4

        # Two identical eyes from the headset: the halves match (up to coding noise).
        await eventually(
            halves_match, 20, lambda: f"halves matching: {difference[-3:]} vs {parallax}"
        )
