"""What a headless trainee sees of the gas-leak drill: where to stand, and the picture
there (for the streamer's and the orchestrator's end-to-end scenario tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from ixclient.viewer import ViewerClient
from tests.waiting import eventually

EYE = 1.6
#: The gas-leak start point faces +z (yaw 180°): a head offset (x, z) lands at
#: (0 - x, 2 - z) in the warehouse. Standing still at the start:
HOME = (0.0, EYE, 0.0)
#: ... and 5.5 m "forward", 2.5 m "left" of it: inside the leak zone (2.5, 7), r = 3.
IN_THE_LEAK = (-2.5, EYE, -5.0)
#: Frames to let pass before reading a picture: the encoder's quality settles.
SETTLE_FRAMES = 8


def luma(client: ViewerClient) -> np.ndarray[Any, np.dtype[np.uint8]]:
    assert client.latest is not None
    plane: np.ndarray[Any, np.dtype[np.uint8]] = client.latest.frame.to_ndarray(format="gray")
    return plane


async def settled_view(client: ViewerClient, position: tuple[float, float, float]) -> Any:
    """The picture at `position` (looking ahead), once a frame that applied it arrived."""
    await client.wait_for_channels()
    seq = client.send_pose(0.0, position)
    await client.wait_for_frame(min_seq=seq, timeout_s=20)
    decoded = client.measure.frames
    await eventually(
        lambda: client.measure.frames >= decoded + SETTLE_FRAMES, 20, "more frames decoded"
    )
    seq = client.send_pose(0.0, position)
    await client.wait_for_frame(min_seq=seq, timeout_s=20)
    return luma(client).astype(np.float32)


async def fog_settles_at(
    snapshot: Callable[[], Awaitable[dict[str, Any]]], density: float, timeout_s: float = 30
) -> None:
    """Wait until the scenario's fog ramp (`set_fog ... over_s`) reaches `density`, as the
    run's snapshot reports it: the ramp runs on the streamer's clock, in another process."""

    async def reached() -> bool:
        return bool((await snapshot())["fog_density"] == density)

    await eventually(reached, timeout_s, f"the fog at {density}", interval_s=0.1)
