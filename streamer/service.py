"""The streamer's one session: viewers, who drives, fan-out, and releasing the dead.

Owns the frame pipeline and every viewer's peer connection. Runs on the event
loop; the only thread is the pipeline's.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from ixstream.ice import rtc_configuration
from ixstream.protocol import (
    EVENTS_CHANNEL,
    FRAMES_CHANNEL,
    INPUT_CHANNEL,
    ActEvent,
    FrameInfo,
    Hello,
    ProtocolError,
    ScenarioNotice,
    ServerTimings,
    WirePose,
    encode,
    parse_event,
    parse_input,
)
from streamer.auth import DRIVING_ROLES, ViewerClaims
from streamer.encode.bitrate import BitrateController, BitrateSettings
from streamer.encode.factory import SUPPORTED_CODECS
from streamer.metrics import StreamerMetrics
from streamer.pipeline import FrameOut, FramePipeline, PipelineConfig
from streamer.record import Recorder
from streamer.rtc import sender_hook
from streamer.rtc.codec_choice import NoCommonCodecError, choose_codec
from streamer.rtc.sdp_check import OfferSummary, check_offer
from streamer.rtc.track import ViewerTrack
from streamer.rtc.viewer import Viewer
from streamer.scenario.errors import NotRunningError, ScenarioRuntimeError
from streamer.scenario.runtime import ScenarioRuntime
from streamer.scenario_host import ScenarioHost
from streamer.session_setup import (
    SessionSetup,
    SetupError,
    check_scene,
    scenario_job,
    start_recording_job,
    stop_recording_job,
)
from streamer.settings import StreamerSettings

log = structlog.get_logger(__name__)

_MIME = {"h264": "video/H264", "vp8": "video/VP8"}
WATCHDOG_PERIOD_S = 0.5
NOTICE_REPEAT_TICKS = 2  # the scenario notice goes out again every second


class ServiceError(Exception):
    """A request the session cannot serve; `status` is its HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class SessionStatus:
    session_id: str | None
    ready: bool
    viewers: int
    trainee_connected: bool
    frames_sent: int
    first_frame_sent_at: float | None
    last_viewer_left_at: float | None
    started_at: float
    scenario: dict[str, object] | None = None
    recording: bool = False


@dataclass
class Recording:
    """The session's recording: where it goes, and its summary once stopped."""

    path: Path
    summary: dict[str, object] | None = None
    stopped: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class StreamerService:
    def __init__(self, settings: StreamerSettings, metrics: StreamerMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.viewers: dict[str, Viewer] = {}
        #: Viewers whose offer is being answered: they hold a slot under `max_viewers`.
        self._connecting: set[str] = set()
        self.driver_id: str | None = None
        self.started_at = time.time()
        self.first_frame_sent_at: float | None = None
        self.last_viewer_left_at: float | None = None
        self.frames_sent = 0
        self.fatal: BaseException | None = None
        self.scenario: ScenarioHost | None = None
        self.recording: Recording | None = None
        self.configured = False
        self.trainee_arrived = False
        self._workdir: Path | None = None
        self._pipeline: FramePipeline | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._fatal_event = asyncio.Event()
        # One bitrate target per codec in use: each codec's encoder serves only its viewers.
        self._bitrates: dict[str, BitrateController] = {}

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        config = PipelineConfig(
            width=s.width,
            height=s.height,
            fps=s.fps,
            codec=s.codec,
            bitrate_bps=s.bitrate_ceiling_kbps * 1000,
            stereo=s.stereo,
            source=s.source,
            scene_path=s.scene,
            allow_hardware_encoder=s.allow_hardware_encoder,
            still_repeat_fps=min(s.still_repeat_fps, s.fps),
            host_sessions=s.host_sessions,
        )
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.metrics.cpu.register_loop_thread()
        self._pipeline = FramePipeline(config, self.metrics, self._on_frame, self._on_fatal, loop)
        self._pipeline.start()
        self.metrics.bitrate_target.labels(codec=s.codec).set(config.bitrate_bps)
        self._watchdog = asyncio.create_task(self._watch(), name="viewer-watchdog")

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        for viewer_id in list(self.viewers):
            await self.release(viewer_id, "shutdown")
        if self.recording is not None:
            with contextlib.suppress(Exception):  # finalise what we can; the dir goes anyway
                await self.stop_recording()
        if self._pipeline is not None:
            await asyncio.to_thread(self._pipeline.stop)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    async def wait_fatal(self) -> BaseException:
        await self._fatal_event.wait()
        assert self.fatal is not None
        return self.fatal

    @property
    def pipeline(self) -> FramePipeline:
        assert self._pipeline is not None, "start() first"
        return self._pipeline

    @property
    def ready(self) -> bool:
        return self._pipeline is not None and self._pipeline.ready.is_set() and self.fatal is None

    def status(self) -> SessionStatus:
        return SessionStatus(
            session_id=self.settings.session_id,
            ready=self.ready,
            viewers=len(self.viewers),
            trainee_connected=self.driver_id is not None
            and self.viewers[self.driver_id].connected_at is not None,
            frames_sent=self.frames_sent,
            first_frame_sent_at=self.first_frame_sent_at,
            last_viewer_left_at=self.last_viewer_left_at,
            started_at=self.started_at,
            scenario=self.scenario.status() if self.scenario is not None else None,
            recording=self.recording is not None and not self.recording.stopped,
        )

    # -- the session's setup (the orchestrator's control API) -------------------

    async def setup(self, setup: SessionSetup) -> None:
        """Loads the scenario and turns recording on, before the trainee arrives."""
        if not self.ready:
            raise SetupError(503, "streamer is not ready (renderer or encoder initialising)")
        if self.trainee_arrived:
            raise SetupError(409, "a trainee has already joined; the setup cannot change now")
        if self.configured:
            raise SetupError(409, "this session is set up already")
        pipeline = self.pipeline
        if setup.scenario is not None:
            from streamer.render.factory import resolve_scene_path

            scene = resolve_scene_path(pipeline.config.scene_path)
            check_scene(pipeline.config, setup.scenario, scene)
            job = scenario_job(pipeline, setup.scenario, scene)
            try:
                runtime: ScenarioRuntime = await asyncio.wrap_future(pipeline.run_on_thread(job))
            except (ScenarioRuntimeError, ValueError) as exc:
                # ValueError: the renderer's limits (e.g. dynamic nodes beyond its slots).
                raise SetupError(
                    422, f"scenario {setup.scenario.id!r} cannot run here: {exc}"
                ) from None
            self.scenario = ScenarioHost(setup.scenario, runtime, self._notify_threadsafe)
            start = setup.scenario.start
            pipeline.place(start.position, math.radians(start.yaw_deg))
            pipeline.director = self.scenario
        if setup.record:
            self._workdir = Path(tempfile.mkdtemp(prefix="ixstream-session-"))
            codec: Literal["h264", "vp8"] = self.settings.codec
            path = self._workdir / f"recording{Recorder.suffix_for(codec)}"
            await asyncio.wrap_future(pipeline.run_on_thread(start_recording_job(pipeline, path)))
            self.recording = Recording(path)
        self.configured = True
        log.info(
            "session_set_up",
            scenario=setup.scenario.id if setup.scenario else None,
            record=setup.record,
        )

    async def stop_recording(self) -> dict[str, object]:
        """Finalises the recording (idempotent); its summary."""
        recording = self.recording
        if recording is None:
            raise SetupError(404, "this session is not being recorded")
        async with recording.lock:
            if not recording.stopped:
                job = stop_recording_job(self.pipeline)
                summary = await asyncio.wrap_future(self.pipeline.run_on_thread(job))
                recording.stopped = True
                recording.summary = {
                    "frames": getattr(summary, "frames", 0),
                    "duration_s": getattr(summary, "duration_s", 0.0),
                    "size_bytes": getattr(summary, "size_bytes", 0),
                }
            assert recording.summary is not None
            return recording.summary

    def _notify_threadsafe(self, notice: ScenarioNotice) -> None:
        self._loop.call_soon_threadsafe(self._notify, notice)

    def _notify(self, notice: ScenarioNotice) -> None:
        message = encode(notice)
        for viewer in self.viewers.values():
            if FRAMES_CHANNEL in viewer.channels:
                viewer.send(FRAMES_CHANNEL, message)

    def _arrived(self, viewer: Viewer) -> None:
        """A driving viewer connected: the trainee is here, the scenario starts."""
        if viewer.claims.role != "trainee" or self.trainee_arrived:
            return
        self.trainee_arrived = True
        if self.scenario is not None and self.scenario.start():
            log.info("scenario_started", scenario=self.scenario.scenario.id)

    # -- viewers ---------------------------------------------------------------

    async def connect(self, offer_sdp: str, claims: ViewerClaims) -> tuple[str, str]:
        """Answers a WHEP offer (non-trickle: every candidate is in the answer).

        The viewer's slot is reserved before the first await and given back on every
        failure: concurrent offers would otherwise all pass the cap check while the
        answers are still being made, and the session would hold more than `max_viewers`.
        """
        if len(self.viewers) + len(self._connecting) >= self.settings.max_viewers:
            raise ServiceError(503, f"session is full ({self.settings.max_viewers} viewers)")
        viewer_id = secrets.token_urlsafe(12)
        self._connecting.add(viewer_id)
        try:
            return await self._answer(viewer_id, offer_sdp, claims)
        finally:
            self._connecting.discard(viewer_id)

    async def _answer(
        self, viewer_id: str, offer_sdp: str, claims: ViewerClaims
    ) -> tuple[str, str]:
        if not self.ready:
            raise ServiceError(503, "streamer is not ready (renderer or encoder initialising)")
        offer = check_offer(offer_sdp)  # OfferError → 400 at the edge
        codec = self._choose_codec(offer)  # no codec in common → 406
        pc = RTCPeerConnection(rtc_configuration(self.settings.ice_servers))
        try:
            viewer = self._make_viewer(viewer_id, pc, claims, codec)
            await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await pc.close()
            raise ServiceError(400, f"offer rejected: {exc}"[:300]) from None
        self.viewers[viewer_id] = viewer
        if self.driver_id is None and claims.role in DRIVING_ROLES:
            self.driver_id = viewer_id
            self.pipeline.new_driver()
        self.metrics.viewers.labels(role=claims.role).inc()
        self._bitrate_for(codec)
        self.pipeline.set_codecs({v.codec for v in self.viewers.values()})
        self.pipeline.set_active(True)
        log.info(
            "viewer_added", viewer=viewer_id, role=claims.role, sub=claims.subject, codec=codec
        )
        return viewer_id, pc.localDescription.sdp

    def _choose_codec(self, offer: OfferSummary) -> str:
        """The viewer's codec: the session's when offered, else another we encode."""
        try:
            return choose_codec(offer.video_codecs, self.settings.codec, SUPPORTED_CODECS)
        except NoCommonCodecError as exc:
            # 406 Not Acceptable (RFC 9110 §15.5.7): well formed, but nothing we can send.
            raise ServiceError(406, str(exc)) from None

    def _make_viewer(
        self, viewer_id: str, pc: RTCPeerConnection, claims: ViewerClaims, codec: str
    ) -> Viewer:
        track = ViewerTrack(
            on_sending=lambda out: self._on_sending(viewer_id, out),
            on_resync=lambda reason: self.pipeline.request_keyframe(reason, codec),
            on_drop=lambda reason: self.metrics.frames_dropped.labels(reason=reason).inc(),
            cpu=self.metrics.cpu,
        )
        transceiver = pc.addTransceiver(track, direction="sendonly")
        # Before setRemoteDescription, or it has no effect (FIELD-NOTES trap 7).
        mime = _MIME[codec]
        capabilities = RTCRtpSender.getCapabilities("video")
        assert capabilities is not None
        caps = capabilities.codecs
        transceiver.setCodecPreferences(
            [c for c in caps if c.mimeType == mime] + [c for c in caps if c.mimeType == "video/rtx"]
        )
        feedback = sender_hook.attach(
            transceiver.sender,
            on_keyframe_request=lambda: self.pipeline.request_keyframe("pli", codec),
            on_bitrate_estimate=lambda bps: self._on_estimate(viewer_id, bps),
        )
        viewer = Viewer(viewer_id, claims, pc, track, transceiver.sender, feedback, codec)

        @pc.on("datachannel")
        def on_datachannel(channel: object) -> None:
            self._adopt_channel(viewer, channel)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            state = pc.connectionState
            if state == "connected" and viewer.connected_at is None:
                viewer.connected_at = time.monotonic()
                self.pipeline.request_keyframe("viewer_joined", codec)
                self._arrived(viewer)
            elif state in {"failed", "closed"}:
                await self.release(viewer_id, state)

        return viewer

    def _adopt_channel(self, viewer: Viewer, channel: object) -> None:
        label: str = getattr(channel, "label", "")
        if label not in {INPUT_CHANNEL, EVENTS_CHANNEL, FRAMES_CHANNEL}:
            self.metrics.messages_dropped.labels(channel="unknown", reason="unknown_channel").inc()
            channel.close()  # type: ignore[attr-defined]
            return
        viewer.channels[label] = channel

        @channel.on("message")  # type: ignore[attr-defined, untyped-decorator]
        def on_message(message: str | bytes) -> None:
            with self.metrics.cpu.timed("data_channels"):
                self._on_message(viewer, label, message)

        if label == FRAMES_CHANNEL:
            self._send_hello(viewer)

    def _send_hello(self, viewer: Viewer) -> None:
        s = self.settings
        role = viewer.claims.role
        assert role != "orchestrator", "WHEP refuses control tokens"
        hello = Hello(
            role=role,
            controls=viewer.id == self.driver_id,
            width=s.width,
            height=s.height,
            fps=s.fps,
            codec=viewer.codec,
            stereo=s.stereo,
            recording=self.recording is not None and not self.recording.stopped,
        )
        viewer.send(FRAMES_CHANNEL, encode(hello))
        if self.scenario is not None:
            viewer.send(FRAMES_CHANNEL, encode(self.scenario.notice()))

    def _on_message(self, viewer: Viewer, label: str, message: str | bytes) -> None:
        """Validates one data-channel message; a bad one is counted and dropped."""
        m = self.metrics
        m.messages_received.labels(channel=label).inc()
        try:
            if label == FRAMES_CHANNEL:
                raise ProtocolError("wrong_direction", "frames is a server-to-client channel")
            parsed = parse_input(message) if label == INPUT_CHANNEL else parse_event(message)
        except ProtocolError as exc:
            m.messages_dropped.labels(channel=label, reason=exc.reason).inc()
            return
        if viewer.id != self.driver_id:
            m.messages_dropped.labels(channel=label, reason="view_only").inc()
            return
        if label == INPUT_CHANNEL:
            if not self.pipeline.submit_pose(parsed):  # type: ignore[arg-type]
                m.messages_dropped.labels(channel=label, reason="stale").inc()
            return
        if isinstance(parsed, ActEvent):
            self._act(parsed.action, parsed.object)
            return
        self.pipeline.submit_event(parsed)  # type: ignore[arg-type]

    def _act(self, action: Literal["use", "grab", "touch"], object_id: str | None) -> None:
        if self.scenario is None:
            self.metrics.messages_dropped.labels(channel=EVENTS_CHANNEL, reason="no_scenario").inc()
            return
        try:
            self.scenario.act(action, object_id)
        except ScenarioRuntimeError as exc:
            reason = "not_running" if isinstance(exc, NotRunningError) else "invalid"
            log.info("act_refused", action=action, object=object_id, reason=str(exc))
            self.metrics.messages_dropped.labels(channel=EVENTS_CHANNEL, reason=reason).inc()

    async def release(self, viewer_id: str, reason: str) -> bool:
        """Closes a viewer and frees what it held; idempotent."""
        viewer = self.viewers.pop(viewer_id, None)
        if viewer is None:
            return False
        self.metrics.viewers.labels(role=viewer.role).dec()
        self.metrics.viewers_released.labels(reason=reason).inc()
        self._forget_estimates(viewer)
        self.pipeline.set_codecs({v.codec for v in self.viewers.values()})
        if viewer_id == self.driver_id:
            self.driver_id = next(
                (v.id for v in self.viewers.values() if v.role in DRIVING_ROLES), None
            )
            self.pipeline.new_driver()  # held keys released, the next driver's seq starts afresh
        if not self.viewers:
            self.pipeline.set_active(False)
            self.last_viewer_left_at = time.time()
        viewer.track.stop()
        await viewer.pc.close()
        log.info("viewer_released", viewer=viewer_id, reason=reason)
        return True

    # -- frames ----------------------------------------------------------------

    def _on_frame(self, out: FrameOut) -> None:
        """One codec's frame to that codec's viewers: the same packets for each."""
        for viewer in self.viewers.values():
            if viewer.connected_at is not None and viewer.codec == out.codec:
                viewer.track.offer(out)

    def _on_sending(self, viewer_id: str, out: FrameOut) -> None:
        with self.metrics.cpu.timed("data_channels"):
            self._send_frame_info(viewer_id, out)

    def _send_frame_info(self, viewer_id: str, out: FrameOut) -> None:
        """Counts the frame and tells its viewer what it shows on the `frames` channel."""
        viewer = self.viewers.get(viewer_id)
        if viewer is None:
            return
        self.frames_sent += 1
        if self.first_frame_sent_at is None:
            self.first_frame_sent_at = time.time()
        self.metrics.frames_sent.inc()
        self.metrics.bytes_sent.inc(out.encoded.size_bytes)
        applied = out.applied
        info = FrameInfo(
            id=out.frame_id,
            rtp=viewer.wire_rtp_timestamp(out.encoded.pts),
            pose=WirePose(p=applied.camera.position, q=applied.camera.orientation),
            seq=applied.seq,
            input_t=applied.input_t,
            keyframe=out.encoded.keyframe,
            server=ServerTimings(
                render_ms=out.render_s * 1000,
                convert_ms=out.convert_s * 1000,
                encode_ms=out.encoded.encode_s * 1000,
                done_at_ms=out.done_at_unix * 1000,
            ),
        )
        viewer.send(FRAMES_CHANNEL, encode(info))

    def _bitrate_for(self, codec: str) -> BitrateController:
        """The codec's bitrate controller; a codec's first viewer starts it at the ceiling."""
        controller = self._bitrates.get(codec)
        if controller is None:
            s = self.settings
            controller = BitrateController(
                start_bps=s.bitrate_ceiling_kbps * 1000,
                now_s=time.monotonic(),
                settings=BitrateSettings(
                    min_bps=s.min_bitrate_kbps * 1000, max_bps=s.bitrate_ceiling_kbps * 1000
                ),
            )
            self._bitrates[codec] = controller
            self._apply_bitrate(codec, controller.target_bps)
        return controller

    def _on_estimate(self, viewer_id: str, bitrate_bps: int) -> None:
        """A viewer's estimate counts for its codec's encoder only (the slowest viewer of it)."""
        viewer = self.viewers.get(viewer_id)
        if viewer is None:
            return
        controller = self._bitrate_for(viewer.codec)
        self._apply_bitrate(
            viewer.codec, controller.report(viewer_id, bitrate_bps, time.monotonic())
        )

    def _forget_estimates(self, viewer: Viewer) -> None:
        controller = self._bitrates.get(viewer.codec)
        if controller is None:
            return
        if any(v.codec == viewer.codec for v in self.viewers.values()):
            self._apply_bitrate(viewer.codec, controller.forget(viewer.id, time.monotonic()))
        else:
            del self._bitrates[viewer.codec]  # its next first viewer starts afresh

    def _apply_bitrate(self, codec: str, target: int | None) -> None:
        if target is not None:
            self.pipeline.set_target_bitrate(target, codec)
            self.metrics.bitrate_target.labels(codec=codec).set(target)

    def _on_fatal(self, exc: BaseException) -> None:
        self.fatal = exc
        self._fatal_event.set()

    # -- watchdog --------------------------------------------------------------

    async def _watch(self) -> None:
        """Releases viewers that never connected or went silent (vanished without DELETE).

        ICE consent expiry (RFC 7675) would notice a vanished peer only after
        ~30 s in aioice; receivers send RTCP reports about once a second, so
        several seconds without one means the viewer is gone.
        """
        s = self.settings
        ticks = 0
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD_S)
            ticks += 1
            if self.scenario is not None and ticks % NOTICE_REPEAT_TICKS == 0:
                # The frames channel may lose a message and never resend it: repeating
                # what the trainee should be told makes a lost caption a late one.
                self._notify(self.scenario.notice())
            now = time.monotonic()
            for viewer in list(self.viewers.values()):
                try:
                    if viewer.connected_at is None:
                        if now - viewer.created_at > s.connect_timeout_s:
                            await self.release(viewer.id, "never_connected")
                        continue
                    heard = viewer.feedback.last_rtcp_at or viewer.connected_at
                    if now - heard > s.liveness_timeout_s:
                        await self.release(viewer.id, "silent")
                except Exception:
                    log.exception("watchdog_release_failed", viewer=viewer.id)
