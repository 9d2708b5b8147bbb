"""The two colour conversions agree: swscale on the CPU (chosen on llvmpipe) and the
shader packing passes (chosen on a hardware GPU) give the same upright I420 frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixstream.pose import Pose
from streamer.render.egl import create_headless_gl
from streamer.render.factory import default_scene_path
from streamer.render.gltf import load_scene
from streamer.render.scene import SceneRenderer, choose_conversion
from streamer.render.source import RenderRequest

W, H = 320, 184


def render(convert: str, stereo: bool = False) -> np.ndarray:
    gl = create_headless_gl()
    renderer = SceneRenderer(
        gl,
        load_scene(default_scene_path()),
        W,
        H,
        stereo=stereo,
        convert=convert,  # type: ignore[arg-type]
    )
    yaw = 0.4
    request = RenderRequest(
        frame_id=3,
        scene_time_s=0.25,
        head=Pose((1.0, 1.6, -4.0), (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))),
    )
    frame = renderer.render(request).i420.astype(np.int16)
    renderer.close()
    return frame


@pytest.mark.parametrize("stereo", [False, True])
def test_cpu_and_gpu_conversion_give_the_same_picture(stereo: bool) -> None:
    cpu, gpu = render("cpu", stereo), render("gpu", stereo)
    luma = np.abs(cpu[:H] - gpu[:H])
    chroma = np.abs(cpu[H:] - gpu[H:])
    assert float(luma.mean()) < 1.5
    assert float(chroma.mean()) < 2.0
    assert np.percentile(luma, 99) <= 6  # edges may differ by a rounding or a filter tap


def test_the_cpu_path_is_upright_and_limited_range() -> None:
    frame = render("cpu")
    y = frame[:H]
    assert y.min() >= 16
    assert y.max() <= 235
    assert y[: H // 8].mean() < y[-H // 4 :].mean() + 40  # sky on top, lit road below


def test_software_renderers_convert_on_the_cpu_and_gpus_in_shaders() -> None:
    assert choose_conversion("auto", hardware=False) == "cpu"
    assert choose_conversion("auto", hardware=True) == "gpu"
    assert choose_conversion("gpu", hardware=False) == "gpu"
