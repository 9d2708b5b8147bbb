"""Each kind of trigger fires exactly when the scenario semantics say, and not before:
time_elapsed at after_s; enters_zone on stepping in (height ignored, the rim counts as
inside), once or on every re-entry; looks_at after a continuous dwell that looking away
resets; acts_on by name or by gaze (15 degrees, 3 m, nearest the ray); instructor events,
with an unknown one refused."""

from __future__ import annotations

import math

import pytest

from ixstream.pose import Pose
from streamer.scenario import UnknownEventError
from tests.streamer.scenario.support import (
    CAPTION,
    T0,
    events,
    facing,
    head,
    kinds,
    started,
    trigger,
)

ZONE = {"kind": "enters_zone", "zone": {"center": [0.0, 0.0, -5.0], "radius_m": 2.0}}
LOOK = {"kind": "looks_at", "object": "cylinder", "dwell_s": 1.5}
CYLINDER = (2.5, 0.725, 7.0)  # gas_cylinder's bounds centre in the warehouse
BUTTON = (-7.92, 1.4, 0.0)  # alarm_button's


def fired(entries: list[dict[str, object]]) -> list[object]:
    return [e["trigger"] for e in entries if e["kind"] == "trigger_fired"]


def test_time_elapsed_fires_when_t_reaches_after_s_and_not_a_moment_before() -> None:
    runtime = started(trigger("five", {"kind": "time_elapsed", "after_s": 5}, CAPTION))

    assert fired(runtime.step(T0 + 4.999, head(0, 0))) == []
    assert events(runtime.step(T0 + 5.0, head(0, 0))) == [
        {"t": 5.0, "kind": "trigger_fired", "trigger": "five", "cause": "time_elapsed"},
        {"t": 5.0, "kind": "effect", "trigger": "five", **CAPTION},
    ]
    assert fired(runtime.step(T0 + 6.0, head(0, 0))) == []


def test_a_repeatable_time_elapsed_still_fires_once_rather_than_every_frame() -> None:
    runtime = started(trigger("five", {"kind": "time_elapsed", "after_s": 5}, CAPTION, once=False))

    log = [e for frame in range(300) for e in runtime.step(T0 + frame / 30, head(0, 0))]

    assert fired(log) == ["five"]


def test_a_zero_delay_timer_fires_on_the_first_frame() -> None:
    runtime = started(trigger("now", {"kind": "time_elapsed", "after_s": 0}, CAPTION))

    assert kinds(runtime.step(T0, head(0, 0))) == ["trigger_fired", "effect"]


def test_entering_a_zone_fires_on_the_step_in_and_not_while_staying_inside() -> None:
    runtime = started(trigger("zone", ZONE, CAPTION))

    assert fired(runtime.step(T0 + 1, head(0.0, -2.9))) == []  # 2.1 m from the centre
    assert events(runtime.step(T0 + 2, head(0.0, -3.1))) == [
        {"t": 2.0, "kind": "trigger_fired", "trigger": "zone", "cause": "enters_zone"},
        {"t": 2.0, "kind": "effect", "trigger": "zone", **CAPTION},
    ]
    assert fired(runtime.step(T0 + 3, head(0.5, -5.0))) == []


def test_a_zone_is_a_floor_plan_circle_whose_rim_counts_as_inside() -> None:
    high = started(trigger("zone", ZONE, CAPTION))
    rim = started(trigger("zone", ZONE, CAPTION))

    assert fired(high.step(T0, head(0.0, -5.0, y=40.0))) == ["zone"]
    assert fired(rim.step(T0, head(2.0, -5.0))) == ["zone"]


def test_a_once_zone_does_not_fire_again_on_re_entry() -> None:
    runtime = started(trigger("zone", ZONE, CAPTION))
    walk = [head(0, 0), head(0, -5), head(0, 0), head(0, -5)]

    log = [e for i, pose in enumerate(walk) for e in runtime.step(T0 + i, pose)]

    assert fired(log) == ["zone"]


def test_a_repeatable_zone_fires_again_on_each_re_entry() -> None:
    runtime = started(trigger("zone", ZONE, CAPTION, once=False))
    walk = [head(0, 0), head(0, -5), head(0, -4), head(0, 0), head(0, -5), head(0, -6)]

    log = [e for i, pose in enumerate(walk) for e in runtime.step(T0 + i, pose)]

    assert [e["t"] for e in log if e["kind"] == "trigger_fired"] == [1.0, 4.0]
    assert runtime.snapshot(T0 + 6)["fired"] == ["zone", "zone"]


def test_looking_at_an_object_fires_after_the_dwell_and_not_before() -> None:
    runtime = started(trigger("seen", LOOK, CAPTION))
    gaze = facing((2.5, 1.6, 10.0), CYLINDER)

    assert fired(runtime.step(T0 + 0.5, head(2.5, 10.0))) == []  # looking over it
    assert fired(runtime.step(T0 + 1.0, gaze)) == []  # the look begins
    assert fired(runtime.step(T0 + 2.4, gaze)) == []
    assert events(runtime.step(T0 + 2.5, gaze)) == [
        {"t": 2.5, "kind": "trigger_fired", "trigger": "seen", "cause": "looks_at"},
        {"t": 2.5, "kind": "effect", "trigger": "seen", **CAPTION},
    ]


def test_looking_away_resets_the_dwell() -> None:
    runtime = started(trigger("seen", LOOK, CAPTION))
    gaze = facing((2.5, 1.6, 10.0), CYLINDER)

    runtime.step(T0 + 1.0, gaze)
    runtime.step(T0 + 2.0, gaze)
    runtime.step(T0 + 2.1, head(2.5, 10.0, yaw_deg=90))  # a glance away
    runtime.step(T0 + 2.2, gaze)

    assert fired(runtime.step(T0 + 3.6, gaze)) == []  # 2.6 s since the first look began
    assert fired(runtime.step(T0 + 3.7, gaze)) == ["seen"]


@pytest.mark.parametrize(("yaw_deg", "fires"), [(9.0, True), (11.0, False)])
def test_looks_at_holds_only_within_max_angle(yaw_deg: float, fires: bool) -> None:
    runtime = started(trigger("seen", {**LOOK, "dwell_s": 0}, CAPTION))

    # level with the cylinder's centre, 3 m in front of it: the yaw is the angle off it
    entries = runtime.step(T0, head(2.5, 10.0, yaw_deg=yaw_deg, y=0.725))

    assert fired(entries) == (["seen"] if fires else [])


def test_a_hidden_object_cannot_be_looked_at() -> None:
    runtime = started(
        trigger("seen", {**LOOK, "dwell_s": 0}, CAPTION),
        objects=[{"id": "cylinder", "node": "gas_cylinder", "visible": False}],
    )

    assert fired(runtime.step(T0, facing((2.5, 1.6, 10.0), CYLINDER))) == []


def test_a_repeatable_look_fires_again_only_after_looking_away_and_back() -> None:
    runtime = started(trigger("seen", {**LOOK, "dwell_s": 0.5}, CAPTION, once=False))
    gaze, away = facing((2.5, 1.6, 10.0), CYLINDER), head(2.5, 10.0, yaw_deg=90)
    frames = [(0.0, gaze), (0.5, gaze), (1.0, gaze), (1.5, away), (2.0, gaze), (2.5, gaze)]

    log = [e for t, pose in frames for e in runtime.step(T0 + t, pose)]

    assert [e["t"] for e in log if e["kind"] == "trigger_fired"] == [0.5, 2.5]


def test_acting_on_a_named_object_fires_its_acts_on_trigger() -> None:
    runtime = started(trigger("pressed", {"kind": "acts_on", "object": "button"}, CAPTION))

    assert runtime.act(T0 + 4, head(0, 0), "use", "button") == [
        {"t": 4.0, "kind": "act", "object": "button", "action": "use"},
        {"t": 4.0, "kind": "trigger_fired", "trigger": "pressed", "cause": "acts_on"},
        {"t": 4.0, "kind": "effect", "trigger": "pressed", **CAPTION},
    ]


def test_acts_on_needs_the_same_object_and_the_same_action() -> None:
    runtime = started(trigger("pressed", {"kind": "acts_on", "object": "button"}, CAPTION))

    assert kinds(runtime.act(T0, head(0, 0), "grab", "button")) == ["act"]
    assert kinds(runtime.act(T0, head(0, 0), "use", "door")) == ["act"]
    assert kinds(runtime.act(T0, head(0, 0), "use", "no-such-thing")) == ["act"]
    assert runtime.snapshot(T0)["fired"] == []


def test_an_unnamed_act_goes_to_the_object_in_the_gaze_within_reach() -> None:
    runtime = started(trigger("pressed", {"kind": "acts_on", "object": "button"}, CAPTION))

    entries = runtime.act(T0 + 1, facing((-7.0, 1.6, 0.0), BUTTON), "use", None)

    assert entries[0] == {"t": 1.0, "kind": "act", "object": "button", "action": "use"}
    assert fired(entries) == ["pressed"]


@pytest.mark.parametrize(
    ("pose", "target"),
    [
        (head(-7.0, 0.0, yaw_deg=80, y=1.4), "button"),  # 10 degrees off, 0.92 m away
        (head(-7.0, 0.0, yaw_deg=70, y=1.4), None),  # 20 degrees off
        (facing((-4.5, 1.4, 0.0), BUTTON), None),  # straight at it but 3.42 m away
        (head(-7.0, 0.0, yaw_deg=-90, y=1.4), None),  # its back to it
    ],
)
def test_a_gaze_target_must_be_within_15_degrees_and_3_metres(
    pose: Pose, target: str | None
) -> None:
    runtime = started()

    assert runtime.act(T0, pose, "touch", None)[0]["object"] == target


@pytest.mark.parametrize(("pitch_deg", "target"), [(-15.0, "valve"), (-20.0, "body")])
def test_of_two_objects_in_the_gaze_the_one_nearest_the_ray_is_the_target(
    pitch_deg: float, target: str
) -> None:
    # valve centre (2.5, 1.375, 7), body centre (2.5, 0.65, 7): both within 15 degrees
    # of a gaze from 2 m away pitched down 15 or 20 degrees
    runtime = started(
        objects=[
            {"id": "valve", "node": "gas_cylinder_valve"},
            {"id": "body", "node": "gas_cylinder_body"},
        ]
    )
    half = math.radians(pitch_deg) / 2
    pose = Pose((2.5, 1.6, 9.0), (math.sin(half), 0.0, 0.0, math.cos(half)))

    assert runtime.act(T0, pose, "use", None)[0]["object"] == target


def test_an_instructor_event_fires_the_triggers_waiting_for_it() -> None:
    runtime = started(trigger("rung", {"kind": "instructor_event", "event": "bell"}, CAPTION))

    assert runtime.instructor_event(T0 + 7, "bell", "ines") == [
        {"t": 7.0, "kind": "instructor", "action": "event", "event": "bell", "by": "ines"},
        {"t": 7.0, "kind": "trigger_fired", "trigger": "rung", "cause": "instructor_event"},
        {"t": 7.0, "kind": "effect", "trigger": "rung", **CAPTION},
    ]
    assert kinds(runtime.instructor_event(T0 + 8, "bell", "ines")) == ["instructor"]  # once


def test_an_unknown_instructor_event_is_refused_and_logs_nothing() -> None:
    runtime = started()

    with pytest.raises(UnknownEventError) as caught:
        runtime.instructor_event(T0, "fire-drill", "ines")

    assert str(caught.value) == (
        "scenario 'edge-cases' has no instructor event 'fire-drill' (it has: bell)"
    )


def test_triggers_that_fire_in_the_same_frame_run_in_document_order() -> None:
    runtime = started(
        trigger("second-in-time", ZONE, CAPTION),
        trigger("first-in-time", {"kind": "time_elapsed", "after_s": 0}, CAPTION),
    )

    assert fired(runtime.step(T0, head(0, -5))) == ["second-in-time", "first-in-time"]
