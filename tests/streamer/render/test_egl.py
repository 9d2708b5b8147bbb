"""The headless GL context: EGL on any machine, a hardware device preferred when there is one."""

from __future__ import annotations

import pytest

from streamer.render.egl import create_headless_gl, is_software_renderer


@pytest.mark.parametrize(
    "renderer",
    [
        "llvmpipe (LLVM 15.0.6, 256 bits)",
        "softpipe",
        "Mesa Software Rasterizer",
        "swrast",
    ],
)
def test_cpu_rasterisers_are_recognised_as_software(renderer: str) -> None:
    assert is_software_renderer(renderer)


@pytest.mark.parametrize(
    "renderer", ["NVIDIA H200/PCIe/SSE2", "NVIDIA GeForce RTX 4090/PCIe/SSE2", "Mesa Intel(R) UHD"]
)
def test_gpu_renderers_are_recognised_as_hardware(renderer: str) -> None:
    assert not is_software_renderer(renderer)


def test_a_headless_context_offers_opengl_3_3_without_a_display() -> None:
    gl = create_headless_gl()
    try:
        assert gl.ctx.version_code >= 330
        assert gl.renderer == gl.ctx.info["GL_RENDERER"]
        assert gl.is_hardware == (not is_software_renderer(gl.renderer))
    finally:
        gl.ctx.release()


@pytest.mark.gpu
def test_an_nvidia_egl_device_is_chosen_when_present() -> None:
    gl = create_headless_gl()
    try:
        if not gl.is_hardware:
            pytest.skip(
                f"no NVIDIA EGL device: renderer is {gl.renderer} ({gl.vendor}); "
                "this check needs a GPU pod with the NVIDIA driver's EGL"
            )
        assert gl.is_hardware
        assert "nvidia" in f"{gl.vendor} {gl.renderer}".lower()
    finally:
        gl.ctx.release()
