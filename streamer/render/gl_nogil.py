"""The two GL calls that block for milliseconds, made without holding Python's GIL.

moderngl keeps the GIL while it calls into the driver. With llvmpipe, a draw
call runs the vertex and triangle-setup pipeline in the calling thread, and
glFinish waits for the rasteriser threads: measured at 720p, the event loop
was blocked up to 12 ms per frame (p99 10.6 ms, against 0.15 ms idle). Every
pose, RTP packet and SCTP chunk waited behind the renderer: latency on the
input path, and UDP receive buffers overflowing under load.

ctypes releases the GIL for the duration of a foreign call, so the draw and
the finish go through function pointers from eglGetProcAddress (libglvnd's
dispatch, bound to the thread's current context: the pipeline thread's).
moderngl still owns every object and sets all other state; these calls only
replace `VertexArray.render` and `Context.finish` on the hot path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any

GL_TRIANGLES = 0x0004


class GlEntryPointError(RuntimeError):
    """The GL entry points could not be resolved (no EGL, or not GL 3.3)."""


@cache
def _entry_points() -> tuple[Any, Any, Any, Any]:
    name = ctypes.util.find_library("EGL") or "libEGL.so.1"
    try:
        egl = ctypes.CDLL(name)
    except OSError as exc:
        raise GlEntryPointError(f"cannot load {name}: {exc}") from None
    get_proc = egl.eglGetProcAddress
    get_proc.restype = ctypes.c_void_p
    get_proc.argtypes = [ctypes.c_char_p]

    def resolve(symbol: bytes, prototype: Any) -> Any:
        address = get_proc(symbol)
        if not address:
            raise GlEntryPointError(f"eglGetProcAddress found no {symbol.decode()}")
        return prototype(address)

    uint, enum, int_ = ctypes.c_uint, ctypes.c_uint, ctypes.c_int
    # CFUNCTYPE pointers release the GIL while the driver runs (PYFUNCTYPE would not).
    return (
        resolve(b"glUseProgram", ctypes.CFUNCTYPE(None, uint)),
        resolve(b"glBindVertexArray", ctypes.CFUNCTYPE(None, uint)),
        resolve(b"glDrawArrays", ctypes.CFUNCTYPE(None, enum, int_, int_)),
        resolve(b"glFinish", ctypes.CFUNCTYPE(None)),
    )


def draw_triangles(program: Any, vertex_array: Any, ranges: list[tuple[int, int]]) -> None:
    """Draws (first, count) vertex ranges of a moderngl VertexArray with its program."""
    use_program, bind_vertex_array, draw_arrays, _ = _entry_points()
    use_program(program.glo)
    bind_vertex_array(vertex_array.glo)
    for first, count in ranges:
        draw_arrays(GL_TRIANGLES, first, count)
    bind_vertex_array(0)


def finish() -> None:
    """glFinish, letting other Python threads (the event loop) run meanwhile."""
    _entry_points()[3]()
