"""Setting a claimed streamer up for its session: the scenario to run, and recording.

A warm streamer starts before anyone knows which scenario it will serve, rendering its
scene as authored. When a session claims it, the orchestrator sends the scenario
(`PUT /v1/scenario`) and the streamer rebuilds its renderer on the pipeline thread with
the scenario's objects and actors as dynamic nodes: their vertices get slots the
scenario can hide, move and relight each frame, which a renderer built without them
cannot do (lighting is baked per vertex). That costs one scene bake (~0.1-0.3 s on
llvmpipe), paid at claim time, before the trainee's first frame.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ixstream.scenario import Scenario
from streamer.pipeline import FramePipeline, Job, PipelineConfig
from streamer.render.source import FrameSource, RenderRequest
from streamer.scenario.runtime import ScenarioRuntime


class SessionSetup(BaseModel):
    """The body of `PUT /v1/scenario`."""

    model_config = ConfigDict(extra="forbid")

    scenario: Scenario | None = Field(
        default=None, description="The scenario document (format 1) to run; null: none."
    )
    record: bool = Field(
        default=False, description="Keep the encoded stream in a file (off by default)."
    )


class SetupError(Exception):
    """The setup cannot apply to this streamer; `status` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check_scene(config: PipelineConfig, scenario: Scenario, scene: Path) -> None:
    """The scenario must be about the scene this streamer renders (its first scene)."""
    if config.source != "scene":
        raise SetupError(422, "this streamer renders a test pattern; it cannot run a scenario")
    rendering = scene.name
    wanted = Path(scenario.scenes[0].path).name
    if wanted != rendering:
        raise SetupError(
            422,
            f"scenario {scenario.id!r} takes place in {wanted!r}, "
            f"but this streamer renders {rendering!r}",
        )


def scenario_job(pipeline: FramePipeline, scenario: Scenario, scene_path: Path) -> Job:
    """A pipeline-thread job: build the runtime and a renderer with its dynamic nodes,
    render one frame to warm it up, then swap it in for the old renderer."""
    # Imported here, like the pipeline's own: GL modules load on the pipeline thread.
    from streamer.render.factory import create_frame_source
    from streamer.render.gltf import load_scene

    def job(current: FrameSource) -> ScenarioRuntime:
        # A scene lacking a node the scenario names fails here, before anything changes.
        runtime = ScenarioRuntime(scenario, load_scene(scene_path).node_bounds)
        cfg = pipeline.config

        def build(dynamic: bool) -> FrameSource:
            return create_frame_source(
                "scene",
                cfg.width,
                cfg.height,
                stereo=cfg.stereo,
                scene_path=scene_path,
                dynamic_nodes=runtime.dynamic_nodes if dynamic else (),
                dynamic_lights=runtime.dynamic_lights if dynamic else (),
            )

        # The old renderer goes first: releasing a GL context after making another one
        # leaves the thread with none current, and the new renderer would draw nowhere.
        current.close()
        try:
            source = build(dynamic=True)
            source.render(RenderRequest(0, 0.0, state=runtime.scene_state(time.monotonic())))
        except BaseException:
            pipeline.replace_source(current, build(dynamic=False))  # stream on, as authored
            raise
        pipeline.replace_source(current, source)
        return runtime

    return job


def start_recording_job(pipeline: FramePipeline, path: Path) -> Job:
    """A pipeline-thread job: from the next frame on, every encoded frame also goes to
    `path`; a keyframe is forced so the file starts with a decodable picture."""
    from streamer.record import Recorder

    def job(current: FrameSource) -> None:
        cfg = pipeline.config
        codec: Literal["h264", "vp8"] = "h264" if cfg.codec == "h264" else "vp8"
        pipeline.sink = Recorder(path, codec, cfg.width, cfg.height, cfg.fps)
        pipeline.request_keyframe("recording")

    return job


def stop_recording_job(pipeline: FramePipeline) -> Job:
    """A pipeline-thread job: stop writing and finalise the file (its summary, or None)."""

    def job(current: FrameSource) -> object:
        recorder, pipeline.sink = pipeline.sink, None
        return None if recorder is None else recorder.close()

    return job
