"""What effects do to the frame: hidden nodes, light gains (steady, flashing, switched),
fog ramps, actor offsets and captions, each as a function of scenario time."""

from __future__ import annotations

import pytest

from tests.streamer.scenario.support import T0, head, started, trigger

BELL = {"kind": "instructor_event", "event": "bell"}


def at(after_s: float) -> dict[str, object]:
    return {"kind": "time_elapsed", "after_s": after_s}


def test_objects_start_as_the_document_says() -> None:
    runtime = started(
        objects=[
            {"id": "cylinder", "node": "gas_cylinder", "visible": False},
            {"id": "alarm", "node": "alarm_light", "kind": "light", "lit": False},
            {"id": "lamp", "node": "ceiling_lamp_1_bulb", "kind": "light"},
        ]
    )

    state = runtime.scene_state(T0)

    assert state.hidden == frozenset({"gas_cylinder"})
    assert state.light_gains == {"alarm_light": 0.0, "ceiling_lamp_1_bulb": 1.0}
    assert runtime.dynamic_lights == ("alarm_light", "ceiling_lamp_1_bulb")


def test_hide_and_show_move_an_objects_node_in_and_out_of_hidden() -> None:
    runtime = started(
        trigger("gone", at(1), {"do": "hide", "object": "door"}),
        trigger("back", at(2), {"do": "show", "object": "door"}),
    )

    runtime.step(T0 + 1, head(0, 0))
    assert runtime.scene_state(T0 + 1).hidden == frozenset({"exit_north"})
    runtime.step(T0 + 2, head(0, 0))
    assert runtime.scene_state(T0 + 2).hidden == frozenset()


def test_a_flash_is_on_for_the_first_half_of_each_period_then_the_light_is_steady_again() -> None:
    runtime = started(
        trigger("alarm", at(2), {"do": "flash_light", "object": "alarm", "period_s": 1, "for_s": 3})
    )
    runtime.step(T0 + 2.0, head(0, 0))

    gains = [runtime.scene_state(T0 + t).light_gains["alarm_light"] for t in (2.25, 2.75, 3.25)]
    assert gains == [1.0, 0.0, 1.0]
    assert runtime.scene_state(T0 + 5.25).light_gains["alarm_light"] == 0.0  # lit: false


def test_switching_a_flashing_light_stops_the_flash() -> None:
    runtime = started(
        trigger("alarm", at(0), {"do": "flash_light", "object": "alarm", "period_s": 1}),
        trigger("off", BELL, {"do": "switch_light", "object": "alarm", "lit": True}),
    )
    runtime.step(T0, head(0, 0))
    assert runtime.scene_state(T0 + 10.75).light_gains["alarm_light"] == 0.0  # still flashing

    runtime.instructor_event(T0 + 11.0, "bell", "ines")

    assert runtime.scene_state(T0 + 11.75).light_gains["alarm_light"] == 1.0


def test_a_pause_freezes_a_flash_in_its_current_phase() -> None:
    runtime = started(trigger("alarm", at(0), {"do": "flash_light", "object": "alarm"}))
    runtime.step(T0, head(0, 0))
    runtime.pause(T0 + 0.1, "ines")  # period 0.5: on

    assert runtime.scene_state(T0 + 0.4).light_gains["alarm_light"] == 1.0


def test_fog_moves_linearly_and_a_new_ramp_starts_from_the_current_density() -> None:
    runtime = started(
        trigger("smoke", at(2), {"do": "set_fog", "density": 0.5, "over_s": 10}),
        trigger("clear", BELL, {"do": "set_fog", "density": 0.0, "over_s": 5}),
    )
    runtime.step(T0 + 2, head(0, 0))
    assert runtime.scene_state(T0 + 2).fog_density == 0.0
    assert runtime.scene_state(T0 + 7).fog_density == pytest.approx(0.25)

    runtime.instructor_event(T0 + 7, "bell", "ines")

    assert runtime.scene_state(T0 + 9.5).fog_density == pytest.approx(0.125)
    assert runtime.scene_state(T0 + 30).fog_density == 0.0


def test_fog_without_a_ramp_changes_at_once() -> None:
    runtime = started(trigger("smoke", at(1), {"do": "set_fog", "density": 0.8}))
    runtime.step(T0 + 1, head(0, 0))

    assert runtime.scene_state(T0 + 1).fog_density == 0.8


def test_move_actor_walks_the_actor_from_where_it_stands_at_its_speed() -> None:
    runtime = started(
        trigger("go", at(1), {"do": "move_actor", "actor": "coworker", "path": "aisle"}),
        actors=[
            {
                "id": "coworker",
                "node": "coworker",
                "behaviour": {"kind": "follow_path", "path": "aisle", "speed_m_s": 2.0},
            }
        ],
    )

    assert runtime.scene_state(T0 + 0.5).offsets == {"coworker": pytest.approx((0, 0, -1.0))}
    runtime.step(T0 + 1, head(0, 0))
    # restarted at t=1 from 2 m down the first leg: 2 s at 2 m/s take it 2 m to the
    # corner and 2 m along the second leg, to (-1, 0, -2), ...
    assert runtime.scene_state(T0 + 3).offsets["coworker"] == pytest.approx((2.0, 0.0, -4.0))
    # ... and the walk ends at the path's last point, (0, 0, -2)
    assert runtime.scene_state(T0 + 60).offsets["coworker"] == pytest.approx((3.0, 0.0, -4.0))


def test_the_latest_caption_shows_for_its_time() -> None:
    runtime = started(
        trigger("first", at(1), {"do": "caption", "text": "One.", "for_s": 10}),
        trigger("second", at(3), {"do": "caption", "text": "Two.", "for_s": 2}),
    )
    runtime.step(T0 + 1, head(0, 0))
    assert [runtime.caption(T0 + t) for t in (0.5, 1.0, 2.9)] == [None, "One.", "One."]

    runtime.step(T0 + 3, head(0, 0))

    assert [runtime.caption(T0 + t) for t in (3.0, 4.9, 5.0)] == ["Two.", "Two.", None]
