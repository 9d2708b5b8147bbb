"""SceneRenderer: draws a glTF scene with moderngl and hands out I420 frames.

Per frame, the GPU does everything and the CPU only reads the finished frame:

1. Scene pass: the lit scene into an RGBA8 texture with depth (one viewport,
   or one per eye side by side).
2. Chroma pass: one bilinear sample at the centre of each 2x2 block (the block
   average) converted to BT.709 Cb/Cr, into a half-size RG8 texture.
3. Packing passes into an RGBA8 target of (w/4, h*3/2) texels, byte for byte
   the I420 layout: rows [0, h) hold Y, then U (w/2 x h/2 packed row after
   row), then V. Each texel carries four consecutive bytes of a plane.
   The vertical flip happens here: GL stores images bottom-up (FIELD-NOTES
   trap 10) and flipping with numpy would cost a copy.

One `read_into` then lands the frame in a preallocated numpy buffer: no CPU
colour conversion and no copies. Packing four bytes per texel, and splitting
luma from chroma into separate draws, matter on llvmpipe: a single R8 pass
with per-pixel branching measured 19.6 ms at 720p, these passes 3.8 ms.

Lighting is baked per vertex when the renderer is built (the way engines bake
lightmaps for static lights): ambient, moonlight and every steady point light
are summed once in numpy; switchable lights (the two police strobes, and the
lights a scenario controls) keep a per-vertex factor that the vertex shader
scales each frame. Nodes a scenario may hide or move are declared up front and
drawn from per-node vertex ranges with a per-node offset (dynamics.py).
llvmpipe runs vertex shaders on one thread and pays heavily for loops in
fragment shaders, and this keeps both shaders to a few instructions.
Surfaces that should show pools of lamplight need vertices a few metres apart
(the sample scene's generator tessellates its streets and walls for this).

All GL work must run on the thread that created the context (see egl.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Literal

import moderngl
import numpy as np
import numpy.typing as npt
import structlog

from ixstream.pose import Pose
from streamer.render import camera, gl_nogil
from streamer.render.cpu_convert import CpuI420
from streamer.render.culling import (
    Clusters,
    cluster_order,
    merged_ranges,
    triangle_cells,
    visible_mask,
    visible_ranges,
)
from streamer.render.dynamics import (
    MAX_LIGHT_CHANNELS,
    MAX_LIGHT_CONTROLS,
    MAX_SLOTS,
    Dynamics,
    FrameDynamics,
    plan,
    resolve,
)
from streamer.render.egl import HeadlessGL
from streamer.render.gltf import SceneGeometry
from streamer.render.lighting import Look, PointLight, bake_lighting, scene_lights, strobe_gains
from streamer.render.source import RenderedFrame, RenderRequest, SceneState

log = structlog.get_logger(__name__)

Colour = tuple[float, float, float]
F32 = npt.NDArray[np.float32]

ConvertMode = Literal["auto", "gpu", "cpu"]
FLIP_Y = np.diag([1.0, -1.0, 1.0, 1.0]).astype(np.float32)
RING_SIZE = 3  # a frame stays valid while two more are rendered (RenderedFrame's contract)


def fog_density_per_m(look: Look, scenario_density: float) -> float:
    """The scene's haze plus the scenario's smoke, which grows with the density squared.

    A scenario moves its density linearly in time (`set_fog`); squared, the
    smoke creeps in and then closes up, as a room filling with smoke does:
    things fade 95% within ~13 m at density 0.5 and ~3 m at 1 (0.9/m).
    """
    return look.fog_density_per_m + scenario_density**2 * look.smoke_density_per_m


def check_frame_size(width: int, height: int) -> None:
    """The packing passes write four bytes per texel; these sizes keep every texel in one plane row.

    Y rows are w bytes (w % 4); chroma rows are w/2 bytes (w % 8); each chroma
    plane is (w/2)(h/2) = w*h/4 bytes, i.e. exactly h/4 target rows (h % 4).
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    if width % 8 or height % 4:
        raise ValueError(
            f"I420 packing needs a width divisible by 8 and a height divisible by 4, "
            f"got {width}x{height}"
        )


def choose_conversion(mode: ConvertMode, hardware: bool) -> Literal["gpu", "cpu"]:
    """Shader packing on a real GPU; swscale where the "GPU" is llvmpipe on the same cores."""
    if mode != "auto":
        return mode
    return "gpu" if hardware else "cpu"


def _size_rank(scene: SceneGeometry) -> npt.NDArray[np.int64]:
    diagonals = [high - low for low, high in (scene.node_bounds[n] for n in scene.node_names)]
    sizes = np.linalg.norm(np.array(diagonals), axis=1)
    rank = np.argsort(np.argsort(sizes, kind="stable"), kind="stable")
    return rank[scene.vertex_node].astype(np.int64)


def cluster_keys(scene: SceneGeometry) -> npt.NDArray[np.int64]:
    """Per vertex, which cull cluster it belongs to: (size rank, grid cell)."""
    cells = triangle_cells(scene.positions)
    return _size_rank(scene) * (int(cells.max(initial=0)) + 1) + cells


def draw_order(scene: SceneGeometry) -> npt.NDArray[np.intp]:
    """Vertex order that draws small nodes before large ones, in cull clusters.

    Small things (cars, lamps, people) stand in front of large ones (walls,
    ground), so drawing them first lets the depth test reject hidden ground
    before it is shaded: a cheap stand-in for front-to-back sorting. Within a
    node, triangles are grouped by grid cell so clusters are contiguous ranges
    (see culling.py).
    """
    return cluster_order(_size_rank(scene), triangle_cells(scene.positions))


def buffer_order(scene: SceneGeometry, vertex_slot: npt.NDArray[np.int32]) -> npt.NDArray[np.intp]:
    """Static vertices in `draw_order`, then each dynamic slot's as one contiguous range.

    Static clusters are culled with their load-time spheres; a moved node
    would leave its sphere, so dynamic nodes get ranges of their own, culled
    with their offset applied (and skipped while hidden).
    """
    order = draw_order(scene)
    static = order[vertex_slot[order] == 0]
    dynamic = np.flatnonzero(vertex_slot)
    dynamic = dynamic[np.argsort(vertex_slot[dynamic], kind="stable")]
    return np.concatenate([static, dynamic]).astype(np.intp)


def vertex_buffer(
    scene: SceneGeometry, lights: list[PointLight], look: Look, dynamics: Dynamics
) -> F32:
    """Interleaved vertices, 18 floats: position, lit, base, light (4), glow, control, slot.

    `lit` is base colour times steady light plus steady emission; `light`
    holds the switchable lamps' factors and `glow` the emission of switchable
    lenses, which the vertex shader scales per frame by their `control`'s gain;
    `slot` picks the node offset.
    """
    steady, switchable = bake_lighting(
        scene, lights, look, dynamics.light_channel, MAX_LIGHT_CHANNELS
    )
    control = dynamics.vertex_control[:, None]
    glow = scene.emissive * (control > 0)
    lit = scene.base_colour * steady + scene.emissive * (control == 0)
    slot = dynamics.vertex_slot[:, None]
    columns = [scene.positions, lit, scene.base_colour, switchable, glow, control, slot]
    order = buffer_order(scene, dynamics.vertex_slot)
    return np.ascontiguousarray(np.hstack(columns, dtype=np.float32)[order])


# ---------------------------------------------------------------- shaders

# Everything is computed per vertex, fog and display encoding included: llvmpipe
# shades fragments on all cores but they outnumber vertices 30 to 1, and a
# pow() per fragment alone measured 4 ms at 720p. Display-encoded colours are
# then interpolated, as Gouraud shading always did.
SCENE_VERTEX = """
#version 330
uniform mat4 u_view_projection;
uniform vec3 u_eye;
uniform vec3 u_fog_colour;
uniform float u_fog_density;
uniform mat4x3 u_light;  // column k: switchable lamp channel k's colour times its gain
uniform float u_glow[CONTROLS];  // each switchable lens's emission gain; [0] unused
uniform vec3 u_offset[SLOTS];  // each dynamic node's translation; [0] static, zero
in vec3 a_position;
in vec3 a_lit;
in vec3 a_base;
in vec4 a_light;
in vec3 a_glow;
in float a_control;
in float a_slot;
out vec3 v_colour;
void main() {
    vec3 world = a_position + u_offset[int(a_slot + 0.5)];
    float glow = u_glow[int(a_control + 0.5)];
    vec3 linear = a_lit + a_base * (u_light * a_light) + a_glow * glow;
    vec3 display = pow(clamp(linear, 0.0, 1.0), vec3(1.0 / 2.2));
    float fog = exp(-u_fog_density * distance(world, u_eye));
    v_colour = mix(u_fog_colour, display, fog);
    gl_Position = u_view_projection * vec4(world, 1.0);
}
""".replace("CONTROLS", str(MAX_LIGHT_CONTROLS + 1)).replace("SLOTS", str(MAX_SLOTS + 1))

SCENE_FRAGMENT = """
#version 330
in vec3 v_colour;
out vec4 f_colour;
void main() {
    f_colour = vec4(v_colour, 1.0);
}
"""

FULLSCREEN_VERTEX = """
#version 330
void main() {
    vec2 corner = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

# BT.709 limited range (ITU-R BT.709-6 items 3.2-3.5; Y' 16..235, Cb/Cr 16..240).
# Cb = (B' - Y') / 1.8556 and Cr = (R' - Y') / 1.5748, expanded below.
BT709 = """
const vec3 KY = vec3(0.2126, 0.7152, 0.0722);
const vec3 KU = vec3(-0.2126, -0.7152, 0.9278) / 1.8556;
const vec3 KV = vec3(0.7874, -0.7152, -0.0722) / 1.5748;
"""

# Sampling at the shared corner of a 2x2 block with bilinear filtering returns
# the block's average: one texture fetch per chroma sample.
CHROMA_FRAGMENT = (
    "#version 330\n"
    + BT709
    + """
uniform sampler2D u_rgb;
out vec4 f_uv;
void main() {
    vec3 c = texture(u_rgb, gl_FragCoord.xy * 2.0 / vec2(textureSize(u_rgb, 0))).rgb;
    f_uv = vec4((128.0 + 224.0 * vec2(dot(c, KU), dot(c, KV))) / 255.0, 0.0, 1.0);
}
"""
)

# Target texel (x, y) with y < h holds Y of image row y (top-down), columns 4x..4x+3.
LUMA_FRAGMENT = (
    "#version 330\n"
    + BT709
    + """
uniform sampler2D u_rgb;
uniform int u_height;
out vec4 f_y;
vec3 at(int x, int row) {
    return texelFetch(u_rgb, ivec2(x, u_height - 1 - row), 0).rgb;
}
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int x = 4 * p.x;
    mat4x3 c = mat4x3(at(x, p.y), at(x + 1, p.y), at(x + 2, p.y), at(x + 3, p.y));
    f_y = (16.0 + 219.0 * (KY * c)) / 255.0;
}
"""
)

# Target texel (x, y) with y >= h holds plane bytes i..i+3 of U (first h/4 rows)
# or V (next h/4 rows), i = (row within plane) * w + 4x; byte i is chroma sample
# (i % (w/2), i / (w/2)) counted top-down.
PACK_CHROMA_FRAGMENT = """
#version 330
uniform sampler2D u_uv;
uniform int u_width;
uniform int u_height;
out vec4 f_c;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int plane_row = p.y - u_height;
    int quarter = u_height / 4;
    int plane = plane_row >= quarter ? 1 : 0;
    int i = (plane_row - plane * quarter) * u_width + 4 * p.x;
    int half_width = u_width / 2;
    int cy = i / half_width;
    int cx = i - cy * half_width;
    int row = u_height / 2 - 1 - cy;
    f_c = vec4(
        texelFetch(u_uv, ivec2(cx, row), 0)[plane],
        texelFetch(u_uv, ivec2(cx + 1, row), 0)[plane],
        texelFetch(u_uv, ivec2(cx + 2, row), 0)[plane],
        texelFetch(u_uv, ivec2(cx + 3, row), 0)[plane]
    );
}
"""


# ---------------------------------------------------------------- renderer

View = tuple[tuple[int, int, int, int], Pose, camera.Mat4]


class SceneRenderer:
    """A FrameSource that renders a baked glTF scene, mono or side-by-side stereo.

    Owns its GL context and every GL object; `close()` releases them. Frame
    content depends only on the RenderRequest (pose, eyes, scene time, state).
    `dynamic_nodes` (glTF node names, any level) are the ones a scenario may
    hide or move, `dynamic_lights` the lights it may switch or dim: declared
    up front because everything else is baked (dynamics.py). A name not in
    the scene, or more than the shaders hold, is a ValueError.
    """

    def __init__(
        self,
        gl: HeadlessGL,
        scene: SceneGeometry,
        width: int,
        height: int,
        *,
        stereo: bool = False,
        samples: int = 0,
        look: Look | None = None,
        convert: ConvertMode = "auto",
        dynamic_nodes: Sequence[str] = (),
        dynamic_lights: Sequence[str] = (),
    ) -> None:
        check_frame_size(width, height)
        self._look = look or Look()
        lights = scene_lights(scene, self._look)
        self._dynamics = plan(scene, lights, dynamic_nodes, dynamic_lights)
        self._gl = gl
        self._ctx: Any = gl.ctx
        self._width = width
        self._height = height
        self._stereo = stereo
        self._closed = False
        self._owned: list[Any] = []
        self._ring = [np.empty((height * 3 // 2, width), dtype=np.uint8) for _ in range(RING_SIZE)]
        self._next = 0
        self._triangles = scene.triangle_count
        self._mono_projection = camera.perspective_from_fov(
            camera.symmetric_fov(self._look.mono_fov_y_deg, width / height)
        )
        self._warned: set[str] = set()
        self._build_scene_pass(vertex_buffer(scene, lights, self._look, self._dynamics), samples)
        self._build_clusters(scene)
        self.conversion = choose_conversion(convert, gl.is_hardware)
        self._cpu: CpuI420 | None = None
        if self.conversion == "gpu":
            self._build_convert_passes()
        else:
            self._cpu = CpuI420(width, height)

    # ------------------------------------------------------------- FrameSource

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def description(self) -> str:
        return self._gl.renderer

    @property
    def is_hardware(self) -> bool:
        return self._gl.is_hardware

    @property
    def triangle_count(self) -> int:
        return self._triangles

    def render(self, request: RenderRequest) -> RenderedFrame:
        if self._closed:
            raise RuntimeError("SceneRenderer is closed")
        started = time.perf_counter()
        self._draw_scene(request)
        gl_nogil.finish()  # GL is asynchronous: without this the draw is billed to readback
        drawn = time.perf_counter()
        out = self._ring[self._next]
        self._next = (self._next + 1) % RING_SIZE
        readback_cpu_s, convert_cpu_s = self._convert_into(out)
        finished = time.perf_counter()
        return RenderedFrame(
            i420=out,
            width=self._width,
            height=self._height,
            render_s=drawn - started,
            convert_s=finished - drawn,
            readback_cpu_s=readback_cpu_s,
            convert_cpu_s=convert_cpu_s,
        )

    def same_picture(self, shown: RenderRequest, request: RenderRequest) -> bool:
        """Same pose, eyes and scenario state, and the strobes (if any) in the same phase.

        The picture is a pure function of those (the class's contract); scene time
        reaches it only through the strobes' flash pattern.
        """
        if (shown.head, shown.eyes, shown.state) != (request.head, request.eyes, request.state):
            return False
        if not any(self._dynamics.control_strobe):
            return True
        period = self._look.strobe_period_s
        return strobe_gains(shown.scene_time_s, period) == strobe_gains(
            request.scene_time_s, period
        )

    def read_rgba(self, out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
        """The last scene pass as RGBA, shape (h, w, 4): bottom-up as GL stores it with
        GPU conversion, top-down with CPU conversion (whose projection flips Y).

        For diagnostics and the CPU-conversion baseline in bench/render.py;
        the frame path never reads RGBA.
        """
        if out is None:
            out = np.empty((self._height, self._width, 4), dtype=np.uint8)
        self._color_fbo.read_into(out, components=4, alignment=1, dtype="f1")
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for obj in reversed(self._owned):
            obj.release()
        self._ctx.release()

    # ------------------------------------------------------------- setup

    def _build_clusters(self, scene: SceneGeometry) -> None:
        """Cull clusters of the static vertices, and one per dynamic slot after them."""
        slots = self._dynamics.vertex_slot
        order = buffer_order(scene, slots)
        static = int(np.count_nonzero(slots == 0))
        positions, keys = scene.positions[order], cluster_keys(scene)[order]
        self._clusters = Clusters.from_sorted(positions[:static], keys[:static])
        dynamic = Clusters.from_sorted(positions[static:], slots[order][static:].astype(np.int64))
        self._slot_clusters = Clusters(
            dynamic.first + static, dynamic.count, dynamic.centre, dynamic.radius
        )
        self._cluster_slot = np.unique(slots[slots > 0]).astype(np.intp)

    def _own(self, obj: Any) -> Any:
        self._owned.append(obj)
        return obj

    def _build_scene_pass(self, vertices: F32, samples: int) -> None:
        ctx = self._ctx
        self._scene_program = self._own(
            ctx.program(vertex_shader=SCENE_VERTEX, fragment_shader=SCENE_FRAGMENT)
        )
        vbo = self._own(ctx.buffer(vertices.tobytes()))
        attributes = ("a_position", "a_lit", "a_base", "a_light", "a_glow", "a_control", "a_slot")
        self._scene_vao = self._own(
            ctx.vertex_array(self._scene_program, [(vbo, "3f 3f 3f 4f 3f 1f 1f", *attributes)])
        )
        size = (self._width, self._height)
        self._color = self._own(ctx.texture(size, 4))
        self._color.filter = (moderngl.LINEAR, moderngl.LINEAR)  # the chroma pass averages
        depth = self._own(ctx.depth_renderbuffer(size))
        self._color_fbo = self._own(
            ctx.framebuffer(color_attachments=[self._color], depth_attachment=depth)
        )
        self._draw_fbo = self._color_fbo
        if samples > 0:
            ms_color = self._own(ctx.renderbuffer(size, 4, samples=samples))
            ms_depth = self._own(ctx.depth_renderbuffer(size, samples=samples))
            self._draw_fbo = self._own(
                ctx.framebuffer(color_attachments=[ms_color], depth_attachment=ms_depth)
            )

    def _build_convert_passes(self) -> None:
        ctx, w, h = self._ctx, self._width, self._height
        chroma = self._fullscreen(CHROMA_FRAGMENT, u_rgb=0)
        luma = self._fullscreen(LUMA_FRAGMENT, u_rgb=0, u_height=h)
        pack = self._fullscreen(PACK_CHROMA_FRAGMENT, u_uv=1, u_width=w, u_height=h)
        self._chroma_vao, self._luma_vao, self._pack_vao = chroma, luma, pack
        self._uv = self._own(ctx.texture((w // 2, h // 2), 2))
        self._uv.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._uv_fbo = self._own(ctx.framebuffer(color_attachments=[self._uv]))
        i420 = self._own(ctx.texture((w // 4, h * 3 // 2), 4))  # bytes == the I420 frame
        self._i420_fbo = self._own(ctx.framebuffer(color_attachments=[i420]))

    def _fullscreen(self, fragment: str, **uniforms: int) -> Any:
        program = self._own(
            self._ctx.program(vertex_shader=FULLSCREEN_VERTEX, fragment_shader=fragment)
        )
        for name, value in uniforms.items():
            program[name].value = value
        return self._own(self._ctx.vertex_array(program, []))

    # ------------------------------------------------------------- per frame

    def _draw_scene(self, request: RenderRequest) -> None:
        ctx, program = self._ctx, self._scene_program
        self._draw_fbo.use()
        ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)  # glTF 2.0 §3.9.6: single-sided by default
        # CPU conversion needs rows top-down: flip Y in clip space, which also
        # mirrors the winding, so front faces are clockwise there.
        flip = self._cpu is not None
        ctx.front_face = "cw" if flip else "ccw"
        frame = self._frame_dynamics(request)
        fog_colour = self._fog_colour(frame.fog_density)
        ctx.clear(*fog_colour, 1.0, depth=1.0, viewport=(0, 0, self._width, self._height))
        look = self._look
        program["u_fog_colour"].value = fog_colour
        program["u_fog_density"].value = fog_density_per_m(look, frame.fog_density)
        program["u_glow"].write(frame.glow.tobytes())
        program["u_light"].write(frame.channel_light.tobytes())  # (4, 3) rows: GL's columns
        program["u_offset"].write(frame.offsets.tobytes())
        for viewport, pose, projection in self._views(request):
            ctx.viewport = viewport
            view_projection = projection @ camera.view_matrix(pose)
            clip = FLIP_Y @ view_projection if flip else view_projection
            program["u_view_projection"].write(camera.gl_bytes(clip))
            program["u_eye"].value = pose.position
            ranges = self._visible_ranges(view_projection, frame)
            gl_nogil.draw_triangles(program, self._scene_vao, ranges)
        if self._draw_fbo is not self._color_fbo:
            ctx.copy_framebuffer(self._color_fbo, self._draw_fbo)

    def _frame_dynamics(self, request: RenderRequest) -> FrameDynamics:
        if request.state is not None:
            self._warn_unplanned(request.state)
        return resolve(
            self._dynamics, request.state, request.scene_time_s, self._look.strobe_period_s
        )

    def _warn_unplanned(self, state: SceneState) -> None:
        """Names the renderer was not built for are ignored: say so once per name."""
        named = state.hidden | state.offsets.keys() | state.light_gains.keys()
        planned = set(self._dynamics.slot_nodes) | set(self._dynamics.light_nodes)
        for name in sorted(named - planned - self._warned):
            self._warned.add(name)
            log.warning("scene_state_name_not_dynamic", node=name)

    def _fog_colour(self, density: float) -> Colour:
        """The sky's colour for the scene's own haze, towards smoke grey as the scenario's rises.

        The colour moves with the square root of the density while the fog's
        thickness grows with its square: a little smoke already looks grey.
        """
        sky, smoke = self._look.sky, self._look.smoke
        if density <= 0.0:
            return sky
        t = math.sqrt(density)
        return (
            sky[0] + (smoke[0] - sky[0]) * t,
            sky[1] + (smoke[1] - sky[1]) * t,
            sky[2] + (smoke[2] - sky[2]) * t,
        )

    def _visible_ranges(
        self, view_projection: camera.Mat4, frame: FrameDynamics
    ) -> list[tuple[int, int]]:
        """Static clusters in the frustum, then dynamic nodes shown and, once moved, in it."""
        static = visible_ranges(self._clusters, [view_projection])
        slots = self._cluster_slot
        moved = self._slot_clusters.moved(frame.offsets[slots])
        shown = frame.slot_visible[slots] & visible_mask(moved, [view_projection])
        dynamic = zip(moved.first[shown].tolist(), moved.count[shown].tolist(), strict=True)
        return merged_ranges([*static, *dynamic])

    def _views(self, request: RenderRequest) -> list[View]:
        w, h = self._width, self._height
        if not self._stereo:
            return [((0, 0, w, h), request.head, self._mono_projection)]
        half = w // 2
        return [
            (
                (i * half, 0, half, h),
                camera.eye_pose(request.head, eye),
                camera.perspective_from_fov(eye.fov),
            )
            for i, eye in enumerate(request.eyes)
        ]

    def _convert_into(self, out: npt.NDArray[np.uint8]) -> tuple[float, float]:
        """Fills `out` with the frame; this thread's CPU seconds for (readback, convert)."""
        started = time.thread_time()
        if self._cpu is not None:
            self._color_fbo.read_into(self._cpu.rgba, components=4, alignment=1, dtype="f1")
            read = time.thread_time()
            self._cpu.convert(out)
            return read - started, time.thread_time() - read
        self._pack_i420()
        packed = time.thread_time()
        w, h = self._width, self._height
        self._i420_fbo.read_into(
            out, viewport=(0, 0, w // 4, h * 3 // 2), components=4, alignment=1, dtype="f1"
        )
        return time.thread_time() - packed, packed - started

    def _pack_i420(self) -> None:
        """The shader conversion: chroma, then luma and chroma packed in the I420 layout."""
        ctx, w, h = self._ctx, self._width, self._height
        ctx.disable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        self._color.use(location=0)
        self._uv_fbo.use()
        ctx.viewport = (0, 0, w // 2, h // 2)
        self._chroma_vao.render(vertices=3)
        self._uv.use(location=1)
        self._i420_fbo.use()
        ctx.viewport = (0, 0, w // 4, h)
        self._luma_vao.render(vertices=3)
        ctx.viewport = (0, h, w // 4, h // 2)
        self._pack_vao.render(vertices=3)
