"""The frame pipeline: render → encode on one dedicated thread, packets to the loop.

One thread owns the GL context (it is bound to the thread that made it,
FIELD-NOTES trap 9) and the encoder. CPU-heavy work never runs on the event
loop, which stays free for RTP, RTCP and data channels. The thread renders only
while someone watches, so a warm-pool streamer costs nothing while it waits.
Encoding once and fanning the packets out to every viewer happens on the loop
side (`StreamHub`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from ixstream.pose import Pose
from ixstream.protocol import AxesEvent, ButtonEvent, KeyEvent, MouseEvent, PoseSample, XrViewsEvent
from streamer.encode.base import VIDEO_CLOCK_HZ, EncodedFrame, Encoder, EncoderConfig
from streamer.frameclock import FrameClock
from streamer.input import Applied, InputState
from streamer.metrics import StreamerMetrics
from streamer.render.source import FrameSource, RenderRequest, SceneState

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    width: int
    height: int
    fps: int
    codec: str
    bitrate_bps: int
    stereo: bool
    source: str  # "scene" | "test-pattern"
    scene_path: Path | None
    allow_hardware_encoder: bool = True


@dataclass(frozen=True, slots=True)
class FrameOut:
    """One encoded frame and what it was made from, handed to the event loop."""

    frame_id: int
    encoded: EncodedFrame
    applied: Applied
    render_s: float
    convert_s: float
    done_at_unix: float


Event = KeyEvent | MouseEvent | ButtonEvent | AxesEvent | XrViewsEvent


class PipelineError(RuntimeError):
    """The renderer or encoder failed; the streamer cannot serve frames any more."""


class SceneDirector(Protocol):
    """What the pipeline asks every frame when a scenario runs (`ScenarioHost`)."""

    def frame(self, head: Pose) -> SceneState: ...


class FrameSink(Protocol):
    """Something that keeps the encoded frames too (`streamer.record.Recorder`)."""

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
        self._last_input_at: float | None = None
        self._keyframe_reasons: set[str] = set()
        self._active = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ixstream-pipeline", daemon=True)
        self.ready = threading.Event()
        self.renderer_name = ""
        self.encoder_name = ""
        self.target_bitrate_bps = config.bitrate_bps
        self._pending_bitrate: int | None = None
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
            self._cond.notify_all()
            return True

    def submit_event(self, event: Event) -> None:
        with self._cond:
            self._state.apply_event(event)

    def request_keyframe(self, reason: str) -> None:
        with self._cond:
            self._keyframe_reasons.add(reason)

    def set_target_bitrate(self, bitrate_bps: int) -> None:
        with self._cond:
            self._pending_bitrate = bitrate_bps

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
        encoder: Encoder | None = None
        try:
            self._source, encoder = self._open()
            self._loop_frames(encoder)
        except BaseException as exc:  # the thread must report, never die silently
            log.exception("pipeline_failed", error=str(exc))
            self._loop.call_soon_threadsafe(self._on_fatal, exc)
        finally:
            self._fail_jobs()
            if encoder is not None:
                encoder.close()
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

    def _open(self) -> tuple[FrameSource, Encoder]:
        # Imported here: moderngl and the codecs load only in the pipeline thread.
        from streamer.encode.factory import create_encoder
        from streamer.render.factory import create_frame_source

        cfg = self.config
        source = create_frame_source(
            "scene" if cfg.source == "scene" else "test-pattern",
            cfg.width,
            cfg.height,
            stereo=cfg.stereo,
            scene_path=cfg.scene_path,
        )
        encoder = create_encoder(
            EncoderConfig(
                codec=cfg.codec,
                width=cfg.width,
                height=cfg.height,
                fps=cfg.fps,
                bitrate_bps=cfg.bitrate_bps,
                allow_hardware=cfg.allow_hardware_encoder,
            )
        )
        # One warm-up frame through both stages: shader compilation and encoder
        # start-up happen now, not in the first viewer's time-to-first-frame.
        warm = source.render(RenderRequest(frame_id=0, scene_time_s=0.0))
        encoder.encode(warm.i420, pts=0, force_keyframe=True)
        self.renderer_name = source.description
        self.encoder_name = encoder.implementation
        log.info("pipeline_ready", renderer=self.renderer_name, encoder=self.encoder_name)
        self.ready.set()
        return source, encoder

    def _loop_frames(self, encoder: Encoder) -> None:
        t0 = time.monotonic()
        last_start: float | None = None
        last_pts = 0
        frame_id = 0
        while True:
            with self._cond:
                if not self._wait_until_due(last_start):
                    return
                now = time.monotonic()
                applied = self._state.step(now - last_start if last_start is not None else 0.0)
                self._fresh_input = False
                reasons = self._keyframe_reasons
                self._keyframe_reasons = set()
                bitrate, self._pending_bitrate = self._pending_bitrate, None
            last_start = now
            frame_id += 1
            if bitrate is not None:
                encoder.set_target_bitrate(bitrate)
                self.target_bitrate_bps = bitrate
            last_pts = max(last_pts + 1, round((now - t0) * VIDEO_CLOCK_HZ))
            assert self._source is not None
            out = self._make_frame(
                self._source, encoder, frame_id, now - t0, applied, last_pts, reasons
            )
            self._loop.call_soon_threadsafe(self._on_frame, out)

    def _wait_until_due(self, last_start: float | None) -> bool:
        """Blocks (holding `_cond` between waits) until a frame is due; False: stop."""
        while not self._stopping:
            self._run_jobs()
            if self._stopping:
                break
            if not self._active:
                self._cond.wait()
                continue
            now = time.monotonic()
            due = self._clock.next_due(now, last_start, self._fresh_input, self._last_input_at)
            if due <= now:
                return True
            self._cond.wait(due - now)
        return False

    def _make_frame(
        self,
        source: FrameSource,
        encoder: Encoder,
        frame_id: int,
        scene_time_s: float,
        applied: Applied,
        pts: int,
        keyframe_reasons: set[str],
    ) -> FrameOut:
        director, sink = self.director, self.sink
        state = director.frame(applied.camera) if director is not None else None
        request = RenderRequest(frame_id, scene_time_s, applied.camera, applied.eyes, state)
        rendered = source.render(request)
        encoded = encoder.encode(rendered.i420, pts, force_keyframe=bool(keyframe_reasons))
        if sink is not None:
            try:
                sink.write(encoded)
            except Exception:  # a full disk loses the recording, never the live stream
                log.exception("recording_failed")
                self.sink = None
        m = self._metrics
        m.frames_rendered.inc()
        m.frames_encoded.inc()
        m.render_seconds.observe(rendered.render_s)
        m.convert_seconds.observe(rendered.convert_s)
        m.encode_seconds.observe(encoded.encode_s)
        for reason in keyframe_reasons:
            m.keyframes_forced.labels(reason=reason).inc()
        return FrameOut(
            frame_id=frame_id,
            encoded=encoded,
            applied=applied,
            render_s=rendered.render_s,
            convert_s=rendered.convert_s,
            done_at_unix=time.time(),
        )
