"""`ViewerClient.wait_for_channels` and `wait_for_hello`: a client that must be heard
waits until its data channels are open, and one that reads the greeting waits for it.
The first frame can come before either (video flows once DTLS is up; a data channel
opens when the streamer acknowledges it over SCTP), and on a busy CI machine a pose
or event sent right after the first frame was lost: the flood test failed on its
first message. A channel that closed instead is named, not waited on.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ixclient.viewer import ViewerClient
from ixstream.protocol import EVENTS_CHANNEL, INPUT_CHANNEL
from tests.conftest import StreamerProcess

pytestmark = pytest.mark.e2e


async def test_what_is_sent_once_the_channels_are_open_is_applied(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    streamer = streamer_factory("--source", "test-pattern", "--width", "320", "--height", "240")
    async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
        viewer.auto_move = False  # one pose only: it must arrive
        await viewer.wait_for_channels(timeout_s=20)
        assert viewer.channel_open(INPUT_CHANNEL)
        assert viewer.channel_open(EVENTS_CHANNEL)
        seq = viewer.send_pose(0.3)
        applied = await viewer.wait_for_frame(min_seq=seq, timeout_s=20)
        assert applied.info is not None
        assert applied.info.seq == seq
        await viewer.wait_for_channels(timeout_s=0)  # open already: no wait at all
        hello = await viewer.wait_for_hello(timeout_s=20)
        assert (hello.role, hello.controls, hello.width) == ("trainee", True, 320)
    with pytest.raises(ConnectionError, match="input channel is closed"):
        await viewer.wait_for_channels(timeout_s=5)


async def test_a_viewer_that_never_connected_is_told_so() -> None:
    viewer = ViewerClient("http://127.0.0.1:9/whep")
    with pytest.raises(ConnectionError, match="not connected"):
        await viewer.wait_for_channels(timeout_s=1)
    with pytest.raises(TimeoutError, match=r"no hello from the streamer within 0\.2 s"):
        await viewer.wait_for_hello(timeout_s=0.2)
