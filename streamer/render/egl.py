"""The headless OpenGL context: NVIDIA's EGL device when there is one, Mesa llvmpipe otherwise.

The same GL code runs on a GPU pod and on a CPU-only CI machine; only the EGL
device differs. moderngl's default X11 backend fails without a display, so the
context is always created through EGL (FIELD-NOTES trap 9).

Threading: an EGL context is current on the thread that created it. Create it
on the thread that will render and never touch it (or anything built on it)
from another thread; the streamer gives rendering a dedicated thread for this.
On llvmpipe, rasterisation also runs on one worker per core (LP_NUM_THREADS,
FIELD-NOTES trap 11), competing with the encoder and with every other session
on the host: `cap_software_render_threads` sizes it from the session's share of
the cores before the first context is created.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import moderngl
import structlog

log = structlog.get_logger(__name__)

GL_VERSION = 330
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software rasterizer")
MAX_EGL_DEVICES = 16  # a bound on enumeration, far above any pod's device count


def software_render_threads(share: int) -> int:
    """llvmpipe's worker threads for a session whose share of the cores is `share`.

    With a share under two cores, none: llvmpipe then rasterises on the
    rendering thread itself, and a frame no longer waits for two workers to be
    scheduled on cores other sessions hold. Measured with four 720p30 sessions
    on 2 cores (bench.cost's density, three runs each way, interleaved): the
    streamers took 1.38-1.44 cores against 1.44-1.49 with two workers each
    (llvmpipe's default here), and motion-to-photon p95 (median of the four)
    was 51-56 ms against 58-62. With a share of two cores or more, one worker per
    core of it (one session on 2 cores: 6 ms a 720p frame on 2 workers, 8.7 on 1).
    """
    return share if share >= 2 else 0


def cap_software_render_threads(share: int) -> None:
    """Sets LP_NUM_THREADS from the share, unless the operator set it; before any context.

    Mesa reads it when llvmpipe's screen is created, and otherwise starts one
    worker per online CPU: all 64 of a node whose pod may use two. NVIDIA's
    EGL ignores it.
    """
    os.environ.setdefault("LP_NUM_THREADS", str(software_render_threads(share)))


class GLContextError(RuntimeError):
    """No EGL device could give us an OpenGL 3.3 context."""


@dataclass(frozen=True, slots=True)
class HeadlessGL:
    """A created context and what it runs on; `is_hardware` is False on llvmpipe."""

    ctx: Any  # moderngl.Context (moderngl ships no type information)
    renderer: str
    vendor: str
    device_index: int
    is_hardware: bool


def is_software_renderer(renderer: str) -> bool:
    """Whether a GL_RENDERER string names a CPU rasteriser."""
    lowered = renderer.lower()
    return any(name in lowered for name in SOFTWARE_RENDERERS)


def create_headless_gl() -> HeadlessGL:
    """Creates the context on the calling thread, preferring a hardware EGL device.

    EGL lists devices in no promised order and Mesa adds its software device
    beside the NVIDIA ones, so each device is tried in turn until one has a
    hardware renderer; the first software context is the fallback.
    """
    fallback: HeadlessGL | None = None
    tried: list[str] = []
    for index in range(MAX_EGL_DEVICES):
        try:
            gl = _open_device(index)
        except Exception as exc:  # glcontext raises a bare Exception past the last device
            if index == 0:
                raise GLContextError(f"no EGL device gave an OpenGL context: {exc}") from exc
            break
        tried.append(f"{index}: {gl.renderer}")
        if gl.is_hardware:
            if fallback is not None:
                fallback.ctx.release()
            log.info("gl_context_created", renderer=gl.renderer, device_index=index)
            return gl
        if fallback is None:
            fallback = gl
        else:
            gl.ctx.release()
    if fallback is None:
        raise GLContextError("no EGL device gave an OpenGL context")
    log.warning(
        "gl_software_fallback",
        reason="no EGL device has a hardware renderer",
        renderer=fallback.renderer,
        devices=tried,
    )
    return fallback


def _open_device(index: int) -> HeadlessGL:
    # moderngl annotates **settings as dict values; these are glcontext's EGL options
    settings: dict[str, Any] = {"backend": "egl", "device_index": index}
    ctx = moderngl.create_context(standalone=True, require=GL_VERSION, **settings)
    renderer = str(ctx.info["GL_RENDERER"])
    return HeadlessGL(
        ctx=ctx,
        renderer=renderer,
        vendor=str(ctx.info["GL_VENDOR"]),
        device_index=index,
        is_hardware=not is_software_renderer(renderer),
    )
