"""The runtime's life cycle: what it tells the renderer up front, starting, commands
before the start and after the end, pausing (scenario time, timers and actors freeze),
ending (by the instructor or by a trigger), the 5 Hz pose log and the snapshot."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streamer.scenario import NotRunningError, ScenarioRuntime, ScenarioRuntimeError
from tests.streamer.scenario.support import (
    CAPTION,
    T0,
    events,
    head,
    scenario,
    scene_bounds,
    started,
    trigger,
)

WALKER = [
    {
        "id": "coworker",
        "node": "coworker",
        "behaviour": {"kind": "follow_path", "path": "aisle"},
    }
]


def test_the_runtime_names_the_nodes_and_lights_the_renderer_must_keep_dynamic() -> None:
    runtime = ScenarioRuntime(scenario(), scene_bounds("warehouse.glb"))

    assert runtime.dynamic_nodes == (
        "gas_cylinder",
        "alarm_button",
        "alarm_light",
        "exit_north",
        "coworker",
    )
    assert runtime.dynamic_lights == ("alarm_light",)
    assert (runtime.started, runtime.paused, runtime.outcome) == (False, False, None)


def test_a_scenario_naming_nodes_the_scene_lacks_is_refused_naming_each_part_and_node() -> None:
    bounds = dict(scene_bounds("warehouse.glb"))
    del bounds["alarm_button"], bounds["coworker"]

    with pytest.raises(ScenarioRuntimeError) as caught:
        ScenarioRuntime(scenario(), bounds)

    assert str(caught.value) == (
        "scenario 'edge-cases' names nodes the scene does not have: "
        "object 'button': node 'alarm_button'; actor 'coworker': node 'coworker'"
    )


def test_starting_logs_scenario_started_at_time_zero() -> None:
    runtime = ScenarioRuntime(scenario(), scene_bounds("warehouse.glb"))

    assert runtime.start(T0) == [
        {"t": 0.0, "kind": "scenario_started", "scenario": "edge-cases", "title": "Edge cases"}
    ]
    assert runtime.started
    with pytest.raises(ScenarioRuntimeError, match="already started"):
        runtime.start(T0 + 1)


def test_every_command_before_the_start_is_refused_as_not_running() -> None:
    runtime = ScenarioRuntime(scenario(), scene_bounds("warehouse.glb"))
    commands: list[Callable[[], object]] = [
        lambda: runtime.step(T0, head(0, 0)),
        lambda: runtime.act(T0, head(0, 0), "use", "button"),
        lambda: runtime.instructor_event(T0, "bell", "ines"),
        lambda: runtime.pause(T0, "ines"),
        lambda: runtime.resume(T0, "ines"),
        lambda: runtime.end(T0, "success", None, "ines"),
    ]
    for command in commands:
        with pytest.raises(NotRunningError, match="has not started: no trainee has connected"):
            command()


def test_before_the_start_the_scene_is_as_authored_at_time_zero() -> None:
    runtime = ScenarioRuntime(scenario(), scene_bounds("warehouse.glb"))

    state = runtime.scene_state(T0 + 50)

    assert state.hidden == frozenset()
    assert state.offsets == {"coworker": (0.0, 0.0, 0.0)}
    assert state.light_gains == {"alarm_light": 0.0}
    assert state.fog_density == 0.0
    assert runtime.snapshot(T0 + 50)["t"] == 0.0


def test_pose_entries_come_at_five_hertz_of_scenario_time_whatever_the_frame_rate() -> None:
    runtime = started()
    log: list[dict[str, object]] = []
    for frame in range(121):  # 2 s at 60 fps
        log += runtime.step(T0 + frame / 60, head(1.0, 2.0, yaw_deg=90))

    poses = [e for e in log if e["kind"] == "pose"]
    assert [e["t"] for e in poses] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0]
    assert poses[0] == {
        "t": 0.0,
        "kind": "pose",
        "p": [1.0, 1.6, 2.0],
        "q": [0.0, 0.7071, 0.0, 0.7071],
    }


def test_pausing_freezes_timers_and_a_resume_picks_up_where_time_stopped() -> None:
    runtime = started(trigger("later", {"kind": "time_elapsed", "after_s": 10}, CAPTION))

    runtime.step(T0 + 4.0, head(0, 0))
    assert runtime.pause(T0 + 5.0, "ines") == [
        {"t": 5.0, "kind": "instructor", "action": "pause", "by": "ines"},
        {"t": 5.0, "kind": "paused", "by": "ines"},
    ]
    assert runtime.step(T0 + 20.0, head(0, 0)) == []  # no pose, no trigger: time stands still
    assert runtime.snapshot(T0 + 20.0)["t"] == 5.0
    assert runtime.resume(T0 + 30.0, "ines") == [
        {"t": 5.0, "kind": "instructor", "action": "resume", "by": "ines"},
        {"t": 5.0, "kind": "resumed", "by": "ines"},
    ]

    assert events(runtime.step(T0 + 34.9, head(0, 0))) == []
    assert events(runtime.step(T0 + 35.0, head(0, 0))) == [
        {"t": 10.0, "kind": "trigger_fired", "trigger": "later", "cause": "time_elapsed"},
        {"t": 10.0, "kind": "effect", "trigger": "later", **CAPTION},
    ]


def test_pausing_twice_or_resuming_a_running_scenario_logs_the_command_only() -> None:
    runtime = started()
    runtime.pause(T0 + 1, "ines")

    assert runtime.pause(T0 + 2, "ines") == [
        {"t": 1.0, "kind": "instructor", "action": "pause", "by": "ines"}
    ]
    runtime.resume(T0 + 3, "ines")
    assert runtime.resume(T0 + 4, "ines") == [
        {"t": 2.0, "kind": "instructor", "action": "resume", "by": "ines"}
    ]


def test_pausing_stops_actors_mid_stride() -> None:
    runtime = started(actors=WALKER)
    runtime.step(T0 + 2.0, head(0, 0))
    runtime.pause(T0 + 2.0, "ines")

    # home is the coworker's bottom centre (-3, 0, 2); 2 s at 1.4 m/s down the first leg
    assert runtime.scene_state(T0 + 50.0).offsets["coworker"] == pytest.approx((0.0, 0.0, -2.8))
    runtime.resume(T0 + 50.0, "ines")
    # 4.2 m walked: the 4 m first leg, then 0.2 m along the second towards (0, 0, -2)
    assert runtime.scene_state(T0 + 51.0).offsets["coworker"] == pytest.approx((0.2, 0.0, -4.0))


def test_an_act_while_paused_is_logged_but_fires_nothing() -> None:
    runtime = started(trigger("pressed", {"kind": "acts_on", "object": "button"}, CAPTION))
    runtime.pause(T0 + 1, "ines")

    assert runtime.act(T0 + 2, head(0, 0), "use", "button") == [
        {"t": 1.0, "kind": "act", "object": "button", "action": "use"}
    ]
    assert runtime.snapshot(T0 + 2)["fired"] == []


def test_the_instructor_ending_the_run_records_the_outcome_and_stops_everything() -> None:
    runtime = started(
        trigger("later", {"kind": "time_elapsed", "after_s": 10}, CAPTION), actors=WALKER
    )

    assert runtime.end(T0 + 3.0, "partial", "Left by the wrong door.", "ines") == [
        {"t": 3.0, "kind": "instructor", "action": "end", "by": "ines"},
        {
            "t": 3.0,
            "kind": "scenario_ended",
            "outcome": "partial",
            "message": "Left by the wrong door.",
            "by": "ines",
        },
    ]
    assert (runtime.outcome, runtime.message) == ("partial", "Left by the wrong door.")
    assert runtime.step(T0 + 20.0, head(0, 0)) == []  # the timer at 10 s never fires
    assert runtime.snapshot(T0 + 20.0)["t"] == 3.0
    # frozen where 3 s of walking took it: 4.2 m, just round the corner
    assert runtime.scene_state(T0 + 20.0).offsets["coworker"] == pytest.approx((0.2, 0.0, -4.0))


def test_every_command_after_the_end_is_refused_as_not_running() -> None:
    runtime = started()
    runtime.end(T0 + 1, "failure", None, "ines")
    commands: list[Callable[[], object]] = [
        lambda: runtime.act(T0 + 2, head(0, 0), "use", "button"),
        lambda: runtime.instructor_event(T0 + 2, "bell", "ines"),
        lambda: runtime.pause(T0 + 2, "ines"),
        lambda: runtime.resume(T0 + 2, "ines"),
        lambda: runtime.end(T0 + 2, "success", None, "ines"),
    ]
    for command in commands:
        with pytest.raises(NotRunningError, match=r"has already ended \(failure\)"):
            command()


def test_an_end_effect_skips_the_rest_of_its_trigger_and_every_later_trigger() -> None:
    runtime = started(
        trigger(
            "finish",
            {"kind": "time_elapsed", "after_s": 1},
            {"do": "end", "outcome": "success", "message": "Done."},
            CAPTION,
        ),
        trigger("same-frame", {"kind": "time_elapsed", "after_s": 1}, CAPTION),
    )

    assert events(runtime.step(T0 + 1.0, head(0, 0))) == [
        {"t": 1.0, "kind": "trigger_fired", "trigger": "finish", "cause": "time_elapsed"},
        {
            "t": 1.0,
            "kind": "effect",
            "trigger": "finish",
            "do": "end",
            "outcome": "success",
            "message": "Done.",
        },
        {
            "t": 1.0,
            "kind": "scenario_ended",
            "outcome": "success",
            "message": "Done.",
            "by": "trigger:finish",
        },
    ]
    assert runtime.caption(T0 + 1.0) is None
    assert runtime.snapshot(T0 + 1.0)["fired"] == ["finish"]


def test_an_outcome_or_action_outside_the_format_is_a_value_error() -> None:
    runtime = started()

    with pytest.raises(ValueError, match="outcome 'won'"):
        runtime.end(T0, "won", None, "ines")
    with pytest.raises(ValueError, match="action 'kick'"):
        runtime.act(T0, head(0, 0), "kick", None)


def test_the_snapshot_sums_up_the_run_for_the_instructor() -> None:
    runtime = started(
        trigger(
            "bell-rings",
            {"kind": "instructor_event", "event": "bell"},
            {"do": "set_fog", "density": 0.4, "over_s": 4},
            {"do": "caption", "text": "Ding.", "for_s": 10},
        )
    )
    runtime.instructor_event(T0 + 2.0, "bell", "ines")

    assert runtime.snapshot(T0 + 3.0) == {
        "scenario": "edge-cases",
        "title": "Edge cases",
        "started": True,
        "paused": False,
        "t": 3.0,
        "outcome": None,
        "message": None,
        "fired": ["bell-rings"],
        "caption": "Ding.",
        "fog_density": 0.1,
        "instructor_events": [{"id": "bell", "label": "Ring the bell"}],
    }
