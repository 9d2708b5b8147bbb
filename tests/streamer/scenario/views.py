"""What a headless trainee sees of the gas-leak drill: where to stand, and the picture
there (for the streamer's and the orchestrator's end-to-end scenario tests)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from ixclient.viewer import ViewerClient

EYE = 1.6
#: The gas-leak start point faces +z (yaw 180°): a head offset (x, z) lands at
#: (0 - x, 2 - z) in the warehouse. Standing still at the start:
HOME = (0.0, EYE, 0.0)
#: ... and 5.5 m "forward", 2.5 m "left" of it: inside the leak zone (2.5, 7), r = 3.
IN_THE_LEAK = (-2.5, EYE, -5.0)


def luma(client: ViewerClient) -> np.ndarray[Any, np.dtype[np.uint8]]:
    assert client.latest is not None
    plane: np.ndarray[Any, np.dtype[np.uint8]] = client.latest.frame.to_ndarray(format="gray")
    return plane


async def settled_view(client: ViewerClient, position: tuple[float, float, float]) -> Any:
    """The picture at `position` (looking ahead), once a frame that applied it arrived."""
    seq = client.send_pose(0.0, position)
    await client.wait_for_frame(min_seq=seq, timeout_s=20)
    await asyncio.sleep(0.3)  # a few more frames: the encoder's quality settles
    seq = client.send_pose(0.0, position)
    await client.wait_for_frame(min_seq=seq, timeout_s=20)
    return luma(client).astype(np.float32)
