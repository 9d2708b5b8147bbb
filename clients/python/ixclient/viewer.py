"""The headless viewer: connects over WHEP, decodes, moves the head, measures.

Used by the `ixstream client` command, the tests, the benchmarks and the
media-plane load harness. It measures what a trainee feels, on its own clock:
- time to first frame: from starting to connect to the first decoded frame;
- motion-to-photon: a pose sent at t0 → the first decoded frame that applied
  it (the `frames` channel says which input each frame applied);
- glass-to-glass (same host only): the server's render-done wall time → decoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

import av
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription

from ixclient import receive_hook
from ixclient.stats import MotionToPhoton, summary
from ixclient.whep import WhepSession
from ixstream.ice import configure_host_addresses, rtc_configuration
from ixstream.protocol import (
    EVENTS_CHANNEL,
    FRAMES_CHANNEL,
    INPUT_CHANNEL,
    ActEvent,
    FrameInfo,
    Hello,
    PoseSample,
    ProtocolError,
    ScenarioNotice,
    WirePose,
    encode,
    parse_server_message,
)

_MIME = {"h264": "video/H264", "vp8": "video/VP8"}
T = TypeVar("T")
EYE_HEIGHT_M = 1.6


def now_ms() -> float:
    return time.monotonic() * 1000.0


def yaw_quaternion(yaw_rad: float) -> tuple[float, float, float, float]:
    return (0.0, math.sin(yaw_rad / 2), 0.0, math.cos(yaw_rad / 2))


@dataclass
class DecodedFrame:
    frame: av.VideoFrame
    rtp: int
    decoded_at_ms: float
    info: FrameInfo | None = None


@dataclass
class Measurements:
    started_ms: float = field(default_factory=now_ms)
    first_frame_ms: float | None = None
    last_frame_ms: float | None = None
    frames: int = 0
    glass_to_glass_ms: list[float] = field(default_factory=list)
    m2p: MotionToPhoton = field(default_factory=MotionToPhoton)
    frames_with_info: int = 0
    server_render_ms: list[float] = field(default_factory=list)
    server_convert_ms: list[float] = field(default_factory=list)
    server_encode_ms: list[float] = field(default_factory=list)


class ViewerClient:
    """One WHEP viewer. `async with ViewerClient(url) as v: await v.run(3)`."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        codec: str = "h264",
        pose_hz: float = 60.0,
        ice_hosts: list[str] | None = None,
        marker_release: bool = True,
        ice_servers: Sequence[Any] = (),
        relay_only: bool = False,
    ) -> None:
        if codec not in _MIME:
            raise ValueError(f"codec must be one of {', '.join(_MIME)}, got {codec!r}")
        self.url = url
        self.codec = codec
        self.pose_hz = pose_hz
        self.whep = WhepSession(url, token)
        self.hello: Hello | None = None
        self.notices: list[ScenarioNotice] = []  # what the scenario told the trainee, in order
        self.latest: DecodedFrame | None = None
        self.latest_matched: DecodedFrame | None = None  # newest frame whose metadata arrived
        self.measure = Measurements()
        self.seq = 0
        self.yaw_rad = 0.0
        self.auto_move = True
        self._pc: RTCPeerConnection | None = None
        self._channels: dict[str, Any] = {}
        self._pending_frames: dict[int, DecodedFrame] = {}
        self._infos: dict[int, FrameInfo] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._frame_event = asyncio.Event()
        self._ice_hosts = ice_hosts if ice_hosts is not None else _loopback_hosts(url)
        self.bad_server_messages = 0
        self._marker_release = marker_release
        self._ice_servers = list(ice_servers)
        self._relay_only = relay_only

    async def __aenter__(self) -> ViewerClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connection ------------------------------------------------------------

    async def connect(self) -> None:
        configure_host_addresses(self._ice_hosts)
        self.measure = Measurements()
        pc = RTCPeerConnection(rtc_configuration(self._ice_servers, relay_only=self._relay_only))
        self._pc = pc
        receive_hook.install(self._marker_release)  # no await until the receiver exists
        transceiver = pc.addTransceiver("video", direction="recvonly")
        capabilities = RTCRtpReceiver.getCapabilities("video")
        assert capabilities is not None
        caps = capabilities.codecs
        transceiver.setCodecPreferences(
            [c for c in caps if c.mimeType == _MIME[self.codec]]
            + [c for c in caps if c.mimeType == "video/rtx"]
        )
        # DESIGN §2: poses unordered without retransmission; events reliable.
        self._channels[INPUT_CHANNEL] = pc.createDataChannel(
            INPUT_CHANNEL, ordered=False, maxRetransmits=0
        )
        self._channels[EVENTS_CHANNEL] = pc.createDataChannel(EVENTS_CHANNEL)
        frames = pc.createDataChannel(FRAMES_CHANNEL, ordered=False, maxRetransmits=0)
        self._channels[FRAMES_CHANNEL] = frames
        frames.on("message", self._on_server_message)

        @pc.on("track")
        def on_track(track: Any) -> None:
            self._tasks.append(asyncio.create_task(self._consume(track)))

        await pc.setLocalDescription(await pc.createOffer())  # gathers every candidate
        answer = await self.whep.offer(pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        self._tasks.append(asyncio.create_task(self._send_poses()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.whep.close()
        if self._pc is not None:
            await self._pc.close()

    async def vanish(self) -> None:
        """Drops the connection without DELETE, as a crashed or unplugged client would."""
        self.whep.resource_url = None
        await self.close()

    # -- sending -----------------------------------------------------------------

    def send_pose(self, yaw_rad: float, position: tuple[float, float, float] | None = None) -> int:
        self.seq += 1
        t = now_ms()
        sample = PoseSample(
            seq=self.seq,
            t=t,
            head=WirePose(p=position or (0.0, EYE_HEIGHT_M, 0.0), q=yaw_quaternion(yaw_rad)),
        )
        self.measure.m2p.input_sent(self.seq, t)
        self.send_raw(INPUT_CHANNEL, encode(sample))
        return self.seq

    def act(
        self, action: Literal["use", "grab", "touch"] = "use", object_id: str | None = None
    ) -> bool:
        """Acts on a scenario object (None: whatever the trainee looks at, within reach)."""
        return self.send_raw(EVENTS_CHANNEL, encode(ActEvent(action=action, object=object_id)))

    async def wait_for_notice(
        self, check: Callable[[ScenarioNotice], bool], timeout_s: float = 10.0
    ) -> ScenarioNotice:
        """The first scenario notice (already received or to come) that passes `check`."""
        return await self._until(
            lambda: next((n for n in self.notices if check(n)), None),
            timeout_s,
            "no matching scenario notice",
        )

    def send_raw(self, label: str, message: str | bytes) -> bool:
        channel = self._channels.get(label)
        if channel is None or channel.readyState != "open":
            return False
        channel.send(message)
        return True

    async def send_paced(
        self, label: str, message: str | bytes, high_water: int = 64 * 1024
    ) -> bool:
        """Sends once the channel's buffer has drained below `high_water` bytes.

        SCTP has flow control but aiortc queues without limit: blasting megabytes
        overflows the UDP buffers and its retransmission back-off (up to 60 s)
        stalls the association. Bulk senders wait for `bufferedamountlow`, as in
        the W3C WebRTC API (RTCDataChannel.bufferedAmountLowThreshold).
        """
        channel = self._channels.get(label)
        if channel is not None and channel.bufferedAmount > high_water:
            drained = asyncio.Event()
            channel.bufferedAmountLowThreshold = high_water
            channel.once("bufferedamountlow", drained.set)
            channel.once("close", drained.set)
            await drained.wait()
        return self.send_raw(label, message)

    async def wait_for_hello(self, timeout_s: float = 10.0) -> Hello:
        """The streamer's greeting (role, controls, size, codec, recording). It comes on
        `frames` as soon as that channel opens, which on a busy machine is after the
        first frame (see `wait_for_channels`)."""
        return await self._until(lambda: self.hello, timeout_s, "no hello from the streamer")

    async def wait_for_channels(self, timeout_s: float = 10.0) -> None:
        """Until the channels this viewer sends on (`input`, `events`) are open.

        The first frame can arrive before them: video flows as soon as DTLS is up,
        while a data channel opens only once the streamer has acknowledged it over
        SCTP (RFC 8832), which on a busy machine comes later. Anything sent before
        that is dropped, so a client that must be heard waits here first. Raises
        `TimeoutError`, or `ConnectionError` when a channel closed instead.
        """
        deadline = time.monotonic() + timeout_s
        for label in (INPUT_CHANNEL, EVENTS_CHANNEL):
            channel = self._channels.get(label)
            if channel is None:
                raise ConnectionError("not connected: connect() first")
            if channel.readyState == "connecting":
                settled = asyncio.Event()
                channel.once("open", settled.set)
                channel.once("close", settled.set)
                remaining = max(0.0, deadline - time.monotonic())
                try:
                    await asyncio.wait_for(settled.wait(), remaining)
                except TimeoutError:
                    raise TimeoutError(
                        f"the {label} channel did not open within {timeout_s} s"
                    ) from None
            if channel.readyState != "open":
                raise ConnectionError(f"the {label} channel is {channel.readyState}")

    async def _until(self, found: Callable[[], T | None], timeout_s: float, missing: str) -> T:
        """What `found` returns once it is not None, checked now and after each frame,
        frame metadata, hello or notice (`_notify`); TimeoutError("`missing` within...")."""
        deadline = time.monotonic() + timeout_s
        while (result := found()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{missing} within {timeout_s} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._frame_event.wait(), remaining)
        return result

    def channel_open(self, label: str) -> bool:
        channel = self._channels.get(label)
        return channel is not None and channel.readyState == "open"

    async def _send_poses(self) -> None:
        """Sways the head ±20° every 2 s, as a trainee looking around would."""
        period = 1.0 / self.pose_hz
        start = time.monotonic()
        tick = 0
        while True:
            tick += 1  # absolute schedule: sleep() overshoots, and relative sleeps drift slow
            await asyncio.sleep(max(0.0, start + tick * period - time.monotonic()))
            if self.auto_move and self.channel_open(INPUT_CHANNEL):
                t = time.monotonic() - start
                self.yaw_rad = math.radians(20) * math.sin(2 * math.pi * t / 2.0)
                self.send_pose(self.yaw_rad)

    # -- receiving ---------------------------------------------------------------

    async def _consume(self, track: Any) -> None:
        while True:
            frame = await track.recv()
            t = now_ms()
            m = self.measure
            if m.first_frame_ms is None:
                m.first_frame_ms = t
            m.last_frame_ms = t
            m.frames += 1
            decoded = DecodedFrame(frame=frame, rtp=int(frame.pts) % (1 << 32), decoded_at_ms=t)
            self.latest = decoded
            info = self._infos.pop(decoded.rtp, None)
            if info is None:
                self._pending_frames[decoded.rtp] = decoded
                _trim(self._pending_frames)
            else:
                self._matched(decoded, info)
            self._notify()

    def _on_server_message(self, message: str | bytes) -> None:
        try:
            parsed = parse_server_message(message)
        except ProtocolError:
            self.bad_server_messages += 1
            return
        if isinstance(parsed, Hello):
            self.hello = parsed
            self._notify()
            return
        if isinstance(parsed, ScenarioNotice):
            self.notices.append(parsed)
            self._notify()
            return
        if parsed.rtp is None:
            return
        decoded = self._pending_frames.pop(parsed.rtp, None)
        if decoded is None:
            self._infos[parsed.rtp] = parsed
            _trim(self._infos)
        else:
            self._matched(decoded, parsed)

    def _notify(self) -> None:
        self._frame_event.set()
        self._frame_event.clear()

    def _matched(self, decoded: DecodedFrame, info: FrameInfo) -> None:
        decoded.info = info
        if self.latest_matched is None or info.id > (self.latest_matched.info or info).id:
            self.latest_matched = decoded
        self._notify()  # metadata may trail its picture: waiters look at matches too
        m = self.measure
        m.frames_with_info += 1
        m.m2p.frame_displayed(info.seq, decoded.decoded_at_ms)
        # Same-host only: both ends read the same wall clock.
        wall_decoded_ms = time.time() * 1000.0 - (now_ms() - decoded.decoded_at_ms)
        s = info.server
        render_done_ms = s.done_at_ms - s.encode_ms - s.convert_ms
        m.glass_to_glass_ms.append(wall_decoded_ms - render_done_ms)
        m.server_render_ms.append(s.render_ms)
        m.server_convert_ms.append(s.convert_ms)
        m.server_encode_ms.append(s.encode_ms)

    async def wait_for_frame(
        self, min_seq: int | None = None, timeout_s: float = 5.0
    ) -> DecodedFrame:
        """The next decoded frame (that applied input ≥ min_seq, when given)."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no frame applying seq ≥ {min_seq} within {timeout_s} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._frame_event.wait(), remaining)
            if min_seq is None:
                if self.latest is not None:
                    return self.latest
                continue
            matched = self.latest_matched
            if (
                matched is not None
                and matched.info is not None
                and (matched.info.seq or 0) >= min_seq
            ):
                return matched

    async def run(self, seconds: float) -> dict[str, Any]:
        await asyncio.sleep(seconds)
        return await self.report()

    async def report(self) -> dict[str, Any]:
        m = self.measure
        fps = 0.0
        if m.first_frame_ms is not None and m.last_frame_ms and m.frames > 1:
            span_s = (m.last_frame_ms - m.first_frame_ms) / 1000.0
            fps = (m.frames - 1) / span_s if span_s > 0 else 0.0
        return {
            "time_to_first_frame_ms": None
            if m.first_frame_ms is None
            else round(m.first_frame_ms - m.started_ms, 1),
            "fps": round(fps, 2),
            "frames": m.frames,
            "glass_to_glass_ms": summary(m.glass_to_glass_ms),
            "motion_to_photon_ms": summary(m.m2p.samples_ms),
            "codec": self.hello.codec if self.hello else self.codec,
            "bytes": await self._bytes_received(),
            "frames_with_metadata": m.frames_with_info,
            "server_ms": {
                "render": summary(m.server_render_ms),
                "convert": summary(m.server_convert_ms),
                "encode": summary(m.server_encode_ms),
            },
        }

    def offered_candidate_types(self) -> list[str]:
        """The ICE candidate types (host, srflx, relay) in the offer this client sent."""
        if self._pc is None or self._pc.localDescription is None:
            return []
        return [
            line.split(" typ ")[1].split()[0]
            for line in self._pc.localDescription.sdp.splitlines()
            if line.startswith("a=candidate:") and " typ " in line
        ]

    async def request_keyframe(self) -> None:
        """Sends a Picture Loss Indication (RFC 4585 §6.3.1), as a decoder that lost sync would."""
        assert self._pc is not None
        stats = await self._pc.getStats()
        ssrcs = [s.ssrc for s in stats.values() if s.type == "inbound-rtp"]
        receiver = self._pc.getReceivers()[0]
        for ssrc in ssrcs:
            await receiver._send_rtcp_pli(ssrc)

    async def _bytes_received(self) -> int:
        if self._pc is None:
            return 0
        stats = await self._pc.getStats()
        return sum(
            int(getattr(s, "bytesReceived", 0) or 0)
            for s in stats.values()
            if s.type == "transport"
        )


def _trim(table: dict[int, Any], keep: int = 256) -> None:
    while len(table) > keep:
        del table[next(iter(table))]


def _loopback_hosts(url: str) -> list[str] | None:
    """On a loopback URL offer 127.0.0.1, which aioice would otherwise never offer."""
    host = urlparse(url).hostname or ""
    if host in {"127.0.0.1", "localhost"}:
        return ["127.0.0.1"]
    return None
