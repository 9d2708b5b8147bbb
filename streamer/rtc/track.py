"""A viewer's video track: hands aiortc the shared, already-encoded packets.

Encode once, send to many: every viewer's track gets the same `av.Packet`s.
A viewer can only start decoding at a keyframe, and a viewer whose queue
overflowed has lost reference frames, so until the next keyframe it is sent
nothing (and a keyframe is requested) rather than garbage the decoder would
smear across the screen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streamer.cpu import StageCpu
from streamer.encode.base import VIDEO_CLOCK_HZ
from streamer.pipeline import FrameOut

QUEUE_FRAMES = 8  # ~130 ms at 60 fps: beyond that, skip to a keyframe instead of lagging


def single_packet(out: FrameOut) -> av.Packet[Any]:
    """aiortc packetises one packet per frame; join the rare multi-packet frame."""
    packets = out.encoded.packets
    if len(packets) == 1:
        return packets[0]
    packet = av.Packet(b"".join(bytes(p) for p in packets))
    packet.pts = out.encoded.pts
    packet.time_base = Fraction(1, VIDEO_CLOCK_HZ)
    return packet


class ViewerTrack(MediaStreamTrack):
    kind = "video"

    def __init__(
        self,
        on_sending: Callable[[FrameOut], None],
        on_resync: Callable[[str], None],
        on_drop: Callable[[str], None],
        cpu: StageCpu | None = None,
    ) -> None:
        super().__init__()
        self._cpu = cpu
        self._handed_at: float | None = None
        self._queue: asyncio.Queue[FrameOut] = asyncio.Queue(QUEUE_FRAMES)
        self._on_sending = on_sending
        self._on_resync = on_resync
        self._on_drop = on_drop
        self._needs_keyframe = True

    def offer(self, out: FrameOut) -> None:
        """Queues a frame for this viewer (called on the loop for every frame)."""
        if self.readyState != "live":
            return
        if self._needs_keyframe and not out.encoded.keyframe:
            self._on_drop("awaiting_keyframe")
            return
        if self._queue.full():
            dropped = self._queue.qsize()
            while not self._queue.empty():
                self._queue.get_nowait()
            for _ in range(dropped):
                self._on_drop("viewer_behind")
            self._needs_keyframe = True
            self._on_resync("resync")
            if not out.encoded.keyframe:
                self._on_drop("awaiting_keyframe")
                return
        self._needs_keyframe = False
        self._queue.put_nowait(out)

    async def recv(self) -> av.Packet[Any]:
        """The next frame's packet, billing the previous one's send path to `send`.

        aiortc's sender calls this, packetises what it returns, serialises, encrypts
        (SRTP) and sends each RTP packet, then calls it again, all in one step of its
        task: the sending thread's CPU time between our return and the next call is
        exactly that frame's send path (`RTCRtpSender._run_rtp`, aiortc 1.16).
        """
        if self._cpu is not None and self._handed_at is not None:
            self._cpu.add("send", time.thread_time() - self._handed_at)
            self._handed_at = None
        if self.readyState != "live":
            raise MediaStreamError
        out = await self._queue.get()
        self._on_sending(out)
        packet = single_packet(out)
        self._handed_at = time.thread_time()
        return packet
