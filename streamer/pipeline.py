"""The frame pipeline: render → encode on one dedicated thread, packets to the loop.

One thread owns the GL context (it is bound to the thread that made it,
FIELD-NOTES trap 9) and the encoders. CPU-heavy work never runs on the event
loop, which stays free for RTP, RTCP and data channels. The thread renders only
while someone watches, so a warm-pool streamer costs nothing while it waits.
Each frame is rendered once and encoded once per codec its viewers decode
(`streamer.encode.stage.EncoderSet`); the service fans each codec's packets
out to that codec's viewers on the loop side.

A tick whose picture would not change (`FrameSource.same_picture`) is not
rendered: it re-encodes the last picture (a cheap repeat) while the view has
been still for less than `STILL_AFTER_S`, and after that sends nothing but a
repeat every 1/`still_repeat_fps` s, so a still scene costs a small fraction of
a moving one (issue 12). The first pose after stillness starts a frame at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from ixstream.pose import Pose
from ixstream.protocol import AxesEvent, ButtonEvent, KeyEvent, MouseEvent, PoseSample, XrViewsEvent
from streamer.encode.base import VIDEO_CLOCK_HZ, EncodedFrame, EncoderConfig
from streamer.encode.factory import SUPPORTED_CODECS
from streamer.encode.stage import EncoderSet
from streamer.frameclock import FrameClock, PoseCadence
from streamer.input import Applied, InputState
from streamer.metrics import StreamerMetrics
from streamer.render.source import FrameSource, RenderedFrame, RenderRequest, SceneState

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    width: int
    height: int
    fps: int
    codec: str  # the session's preferred codec: its encoder stays open, the recording uses it
    bitrate_bps: int
    stereo: bool
    source: str  # "scene" | "test-pattern"
    scene_path: Path | None
    allow_hardware_encoder: bool = True
    still_repeat_fps: float = 10.0  # while nothing changes, the last picture again this often
    host_sessions: int = 1  # sessions sharing the host's cores (encoder and render threads)


@dataclass(frozen=True, slots=True)
class FrameOut:
    """One frame encoded in one codec, and what it was made from, handed to the event loop.

    A frame rendered once and encoded in two codecs makes two `FrameOut`s with
    the same `frame_id`, `applied` and render timings.
    """

    frame_id: int
    codec: str  # "h264" | "vp8": which viewers take it
    encoded: EncodedFrame
    applied: Applied
    render_s: float
    convert_s: float
    done_at_unix: float


Event = KeyEvent | MouseEvent | ButtonEvent | AxesEvent | XrViewsEvent

#: How long a picture must stay unchanged before ticks are skipped. Until then an
#: unchanged tick is a cheap repeat (encoded, not rendered): a pose that arrives a
#: little late must not open a gap in playout, only real stillness should.
STILL_AFTER_S = 0.25


@dataclass(frozen=True, slots=True)
class Shown:
    """The last frame handed out: what a tick with nothing new compares with and repeats."""

    source: FrameSource
    request: RenderRequest
    rendered: RenderedFrame  # valid until the source renders twice more (RenderedFrame)
    codecs: frozenset[str]
    at: float  # monotonic start of the tick that made it
    rendered_at: float  # monotonic start of the tick that rendered the picture


class PipelineError(RuntimeError):
    """The renderer or encoder failed; the streamer cannot serve frames any more."""


class SceneDirector(Protocol):
    """What the pipeline asks every frame when a scenario runs (`ScenarioHost`)."""

    def frame(self, head: Pose) -> SceneState: ...


class FrameSink(Protocol):
    """Something that keeps the preferred codec's encoded frames too (`streamer.record.Recorder`).

    While a sink is set the preferred codec is encoded even with no viewer of it.
    """

    def write(self, frame: EncodedFrame) -> None: ...

    def close(self) -> object: ...


#: Work for the pipeline thread, which owns the GL context and the encoder's output:
#: it gets the thread's current frame source and returns a replacement, or None.
Job = Callable[[FrameSource], Any]


class FramePipeline:
    """Owns the render/encode thread. Thread-safe entry points take `_cond`."""

    def __init__(
        self,
        config: PipelineConfig,
        metrics: StreamerMetrics,
        on_frame: Callable[[FrameOut], None],
        on_fatal: Callable[[BaseException], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.config = config
        self._metrics = metrics
        self._on_frame = on_frame
        self._on_fatal = on_fatal
        self._loop = loop
        self._clock = FrameClock(config.fps)
        self._cond = threading.Condition()
        self._state = InputState()
        self._fresh_input = False
        self._idle = False  # the last tick showed nothing new (pipeline thread only)
        self._shown_at: float | None = None  # when the last frame shown started (ditto)
        self._last_input_at: float | None = None
        self._cadence = PoseCadence()
        self._keyframe_reasons: dict[str, set[str]] = {}
        self._codecs: frozenset[str] = frozenset()
        self._active = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ixstream-pipeline", daemon=True)
        self.ready = threading.Event()
        self.renderer_name = ""
        self.encoder_name = ""
        self._pending_bitrates: dict[str, int] = {}
        self._jobs: list[tuple[Job, concurrent.futures.Future[Any]]] = []
        self._source: FrameSource | None = None
        self.director: SceneDirector | None = None
        self.sink: FrameSink | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    # -- inputs (called from the event loop) ----------------------------------

    def set_active(self, active: bool) -> None:
        with self._cond:
            self._active = active
            if not active:
                self._state.release_all()
            self._cond.notify_all()

    def new_driver(self) -> None:
        with self._cond:
            self._state.new_driver()

    def place(self, position: tuple[float, float, float], yaw_rad: float) -> None:
        """Moves the trainee's navigation origin (a scenario's start point)."""
        with self._cond:
            self._state.place(position, yaw_rad)

    def submit_pose(self, sample: PoseSample) -> bool:
        """Applies a pose; returns False for a stale (reordered) sample."""
        with self._cond:
            if not self._state.apply_pose(sample):
                return False
            self._fresh_input = True
            self._last_input_at = time.monotonic()
            self._cadence.observe(self._last_input_at)
            self._cond.notify_all()
            return True

    def submit_event(self, event: Event) -> None:
        with self._cond:
            self._state.apply_event(event)

    def set_codecs(self, codecs: Collection[str]) -> None:
        """The codecs the viewers decode: from the next frame on, each is encoded once.

        A codec that appears gets an encoder (its first frame a keyframe); one
        that is gone has its encoder closed (the preferred codec's stays open).
        """
        with self._cond:
            self._codecs = frozenset(codecs)

    def request_keyframe(self, reason: str, codec: str | None = None) -> None:
        """Forces a keyframe in `codec`'s next frame (None: the preferred codec's)."""
        with self._cond:
            self._keyframe_reasons.setdefault(codec or self.config.codec, set()).add(reason)

    def set_target_bitrate(self, bitrate_bps: int, codec: str | None = None) -> None:
        """Sets `codec`'s encoder bitrate target (None: the preferred codec's)."""
        with self._cond:
            self._pending_bitrates[codec or self.config.codec] = bitrate_bps

    def run_on_thread(self, job: Job) -> concurrent.futures.Future[Any]:
        """Runs `job` on the pipeline thread between frames (waking it if idle).

        GL objects may only be touched there (FIELD-NOTES trap 9), so rebuilding the
        renderer for a scenario, or closing a recording, goes through here.
        """
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            if self._stopping or not self._thread.is_alive():
                future.set_exception(PipelineError("the frame pipeline is not running"))
                return future
            self._jobs.append((job, future))
            self._cond.notify_all()
        return future

    def replace_source(self, old: FrameSource, new: FrameSource) -> None:
        """For jobs: makes `new` the thread's frame source (the job closes `old`)."""
        assert old is self._source, "a job may only replace the current source"
        self._source = new

    # -- the thread ------------------------------------------------------------

    def _run(self) -> None:
        encoders: EncoderSet | None = None
        # Named for the OS first: the encoder threads it starts inherit the name (cpu.py).
        self._metrics.cpu.register_pipeline_thread()
        try:
            self._source, encoders = self._open()
            self._loop_frames(encoders)
        except BaseException as exc:  # the thread must report, never die silently
            log.exception("pipeline_failed", error=str(exc))
            self._loop.call_soon_threadsafe(self._on_fatal, exc)
        finally:
            self._fail_jobs()
            if encoders is not None:
                encoders.close()
                self._metrics.encoders_open.clear()
            if self._source is not None:
                self._source.close()

    def _fail_jobs(self) -> None:
        with self._cond:
            jobs, self._jobs = self._jobs, []
        for _, future in jobs:
            future.set_exception(PipelineError("the frame pipeline stopped"))

    def _run_jobs(self) -> None:
        """Runs queued jobs; called holding `_cond`, released while a job runs."""
        while self._jobs:
            job, future = self._jobs.pop(0)
            self._cond.release()
            try:
                assert self._source is not None
                future.set_result(job(self._source))
            except BaseException as exc:  # a job's failure is its caller's, not ours
                future.set_exception(exc)
            finally:
                self._cond.acquire()

    def _open(self) -> tuple[FrameSource, EncoderSet]:
        # Imported here: moderngl and the codecs load only in the pipeline thread.
        from streamer.cores import cores_per_session
        from streamer.encode.factory import create_encoder
        from streamer.render.egl import cap_software_render_threads
        from streamer.render.factory import create_frame_source

        cfg = self.config
        cap_software_render_threads(cores_per_session(cfg.host_sessions))
        source = create_frame_source(
            "scene" if cfg.source == "scene" else "test-pattern",
            cfg.width,
            cfg.height,
            stereo=cfg.stereo,
            scene_path=cfg.scene_path,
        )
        encoders = EncoderSet(
            EncoderConfig(
                codec=cfg.codec,
                width=cfg.width,
                height=cfg.height,
                fps=cfg.fps,
                bitrate_bps=cfg.bitrate_bps,
                allow_hardware=cfg.allow_hardware_encoder,
                host_sessions=cfg.host_sessions,
            ),
            create_encoder,
        )
        # One warm-up frame through both stages: shader compilation and encoder
        # start-up happen now, not in the first viewer's time-to-first-frame.
        warm = source.render(RenderRequest(frame_id=0, scene_time_s=0.0))
        self.encoder_name = encoders.warm_up(warm.i420)
        self._count_encoders(encoders)
        self.renderer_name = source.description
        log.info("pipeline_ready", renderer=self.renderer_name, encoder=self.encoder_name)
        self.ready.set()
        return source, encoders

    def _count_encoders(self, encoders: EncoderSet) -> None:
        gauge = self._metrics.encoders_open
        for codec in (self.config.codec, *SUPPORTED_CODECS):
            gauge.labels(codec=codec).set(1 if codec in encoders.open_codecs else 0)

    def _wanted_codecs(self, viewer_codecs: frozenset[str]) -> frozenset[str]:
        """The viewers' codecs, and the preferred one while it is being recorded."""
        return viewer_codecs | {self.config.codec} if self.sink is not None else viewer_codecs

    def _loop_frames(self, encoders: EncoderSet) -> None:
        t0 = time.monotonic()
        last_start: float | None = None
        last_tick: float | None = None  # the last frame's place on the clock's schedule
        last_pts = 0
        frame_id = 0
        shown: Shown | None = None
        while True:
            with self._cond:
                if not self._wait_until_due(last_tick):
                    return
                now = time.monotonic()
                last_tick = self._clock.tick_of(now, last_tick, self._cadence.period_s)
                applied = self._state.step(now - last_start if last_start is not None else 0.0)
                self._fresh_input = False
                reasons, self._keyframe_reasons = self._keyframe_reasons, {}
                bitrates, self._pending_bitrates = self._pending_bitrates, {}
                codecs = self._wanted_codecs(self._codecs)
            last_start = now
            for codec, bitrate in bitrates.items():
                encoders.set_target_bitrate(codec, bitrate)
            source = self._source
            assert source is not None
            request = self._request(frame_id + 1, now - t0, applied)
            repeat = self._still(shown, source, request, codecs)
            self._idle = repeat and not reasons and self._skippable(shown, now)
            if self._idle:
                self._metrics.frames_skipped.inc()
                continue
            frame_id += 1
            # One clock for every encoder: strictly increasing pts for each (FIELD-NOTES trap 2).
            last_pts = max(last_pts + 1, round((now - t0) * VIDEO_CLOCK_HZ))
            if repeat:
                assert shown is not None
                self._metrics.frames_repeated.inc()
                rendered, request = shown.rendered, shown.request
            else:
                rendered = self._render(source, request)
            self._encode_frame(
                encoders, codecs, frame_id, rendered, applied, last_pts, reasons, repeat
            )
            rendered_at = shown.rendered_at if repeat and shown is not None else now
            shown = Shown(source, request, rendered, codecs, now, rendered_at)
            self._shown_at = now

    def _skippable(self, shown: Shown | None, now: float) -> bool:
        """Whether an unchanged tick may send nothing: still long enough, no repeat due.

        A still picture still goes out now and then (`still_repeat_fps`), cheaply:
        no render, one encode of an unchanged picture (nearly all skipped blocks),
        so viewers' decoders, jitter buffers and RTCP sender reports keep a steady
        pulse and a viewer's frame counter shows the stream is alive.
        """
        if shown is None or now - shown.rendered_at < STILL_AFTER_S:
            return False
        return now - shown.at < 1.0 / self.config.still_repeat_fps

    @staticmethod
    def _still(
        shown: Shown | None, source: FrameSource, request: RenderRequest, codecs: frozenset[str]
    ) -> bool:
        """Whether this tick would show the last picture again (issue 12: skip the render).

        Not after the source was replaced (a scenario's new scene), nor when the
        codecs changed: a newly opened encoder must get a frame at once.
        """
        return (
            shown is not None
            and shown.source is source
            and shown.codecs == codecs
            and source.same_picture(shown.request, request)
        )

    def _wait_until_due(self, last_tick: float | None) -> bool:
        """Blocks (holding `_cond` between waits) until a frame is due; False: stop."""
        while not self._stopping:
            self._run_jobs()
            if self._stopping:
                break
            if not self._active:
                self._cond.wait()
                continue
            now = time.monotonic()
            due = self._clock.next_due(
                now, last_tick, self._fresh_input, self._last_input_at, self._cadence.period_s
            )
            if self._fresh_input and self._idle:
                # The last tick showed nothing new: a pose is due by the last frame shown,
                # so the first motion after stillness starts a frame at once.
                shown_due = self._clock.next_due(now, self._shown_at, True, self._last_input_at)
                due = min(due, shown_due)
            if due <= now:
                return True
            self._cond.wait(due - now)
        return False

    def _request(self, frame_id: int, scene_time_s: float, applied: Applied) -> RenderRequest:
        director = self.director
        state = director.frame(applied.camera) if director is not None else None
        return RenderRequest(frame_id, scene_time_s, applied.camera, applied.eyes, state)

    def _render(self, source: FrameSource, request: RenderRequest) -> RenderedFrame:
        started_cpu = time.thread_time()
        rendered = source.render(request)
        m = self._metrics
        cpu = m.cpu
        cpu.add("readback", rendered.readback_cpu_s)
        cpu.add("convert", rendered.convert_cpu_s)
        cpu.add(
            "render",
            time.thread_time() - started_cpu - rendered.readback_cpu_s - rendered.convert_cpu_s,
        )
        m.frames_rendered.inc()
        m.render_seconds.observe(rendered.render_s)
        m.convert_seconds.observe(rendered.convert_s)
        return rendered

    def _encode_frame(
        self,
        encoders: EncoderSet,
        codecs: frozenset[str],
        frame_id: int,
        rendered: RenderedFrame,
        applied: Applied,
        pts: int,
        keyframe_reasons: dict[str, set[str]],
        repeat: bool,
    ) -> None:
        """Encodes once per codec and hands each codec's frame to the loop."""
        m = self._metrics
        cpu = m.cpu
        opened = encoders.open_codecs
        for codec, encoded in encoders.encode(codecs, rendered.i420, pts, keyframe_reasons):
            if codec == self.config.codec:
                self._record(encoded)
            m.frames_encoded.labels(codec=codec).inc()
            m.encode_seconds.labels(codec=codec).observe(encoded.encode_s)
            cpu.add("encode", encoded.encode_cpu_s)
            for reason in keyframe_reasons.get(codec, ()):
                m.keyframes_forced.labels(reason=reason, codec=codec).inc()
            out = FrameOut(
                frame_id=frame_id,
                codec=codec,
                encoded=encoded,
                applied=applied,
                render_s=0.0 if repeat else rendered.render_s,
                convert_s=0.0 if repeat else rendered.convert_s,
                done_at_unix=time.time(),
            )
            self._loop.call_soon_threadsafe(self._on_frame, out)
        if encoders.open_codecs != opened:
            self._count_encoders(encoders)

    def _record(self, encoded: EncodedFrame) -> None:
        sink = self.sink
        if sink is None:
            return
        try:
            sink.write(encoded)
        except Exception:  # a full disk loses the recording, never the live stream
            log.exception("recording_failed")
            self.sink = None
