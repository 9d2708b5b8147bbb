"""The peer a session's cost is compared with: the stock aiortc send path (issue 12).

A `VideoStreamTrack` that renders the same scene with the same camera sway and
hands aiortc `av.VideoFrame`s, which aiortc encodes with its own H.264 encoder
(libx264 opened by `aiortc.codecs.h264`) and paces with its 30 fps clock: what
a plain aiortc prototype does (FIELD-NOTES). Runs as a child process so its
CPU time is its own; signalling is one line each way on stdin/stdout (aiortc
gathers every candidate before the offer, FIELD-NOTES trap 6).

Usage: python -m bench.stock_peer --seconds S  (offer JSON line out, answer line in,
then the result JSON line out)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import av
import structlog
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription, VideoStreamTrack

from bench.floor import WARMUP_S, cpu_figures, open_source, sway
from ixstream.ice import configure_host_addresses, rtc_configuration
from streamer.cpu import process_cpu_s
from streamer.render.source import FrameSource, RenderRequest


class RenderedTrack(VideoStreamTrack):
    """Renders a frame whenever aiortc's sender asks for one."""

    def __init__(self, source: FrameSource) -> None:
        super().__init__()
        self._source = source
        self._started = time.monotonic()
        self.frames = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self.frames += 1
        now = time.monotonic() - self._started
        rendered = self._source.render(RenderRequest(self.frames, now, sway(now)))
        frame = av.VideoFrame.from_numpy_buffer(rendered.i420, format="yuv420p")
        frame.pts = pts
        frame.time_base = time_base
        return frame


async def serve(seconds: float, width: int, height: int, scene: str) -> dict[str, Any]:
    configure_host_addresses(["127.0.0.1"])
    source = open_source(width, height, scene)
    pc = RTCPeerConnection(rtc_configuration([]))
    track = RenderedTrack(source)
    transceiver = pc.addTransceiver(track, direction="sendonly")
    capabilities = RTCRtpSender.getCapabilities("video")
    assert capabilities is not None
    transceiver.setCodecPreferences([c for c in capabilities.codecs if c.mimeType == "video/H264"])
    try:
        await pc.setLocalDescription(await pc.createOffer())
        print(json.dumps({"sdp": pc.localDescription.sdp}), flush=True)
        answer = json.loads(await asyncio.to_thread(sys.stdin.readline))
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        await asyncio.sleep(WARMUP_S)
        cpu0, frames0, t0 = process_cpu_s(), track.frames, time.monotonic()
        await asyncio.sleep(seconds)
        wall = time.monotonic() - t0
        cpu, frames = process_cpu_s() - cpu0, track.frames - frames0
    finally:
        await pc.close()
        source.close()
    return cpu_figures(wall, frames, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description="stock aiortc sender (JSON lines)")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--scene", default="warehouse.glb")
    args = parser.parse_args()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    result = asyncio.run(serve(args.seconds, args.width, args.height, args.scene))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
