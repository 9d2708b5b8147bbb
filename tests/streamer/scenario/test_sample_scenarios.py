"""The two sample scenarios run in their real scenes.

The gas leak is walked through as a trainee would: stand at the start, the leak starts
at 20 s with a fog ramp, stepping into the gas warns (again on re-entry), a look at the
cylinder is noticed, the alarm is pressed by gaze (the light flashes, the colleague
heads for the north exit), the instructor fires an event, and leaving by the north exit
ends the run as a success, with every entry in order."""

from __future__ import annotations

import json

import pytest

from ixstream.pose import Pose
from streamer.scenario import Entry, NotRunningError, ScenarioRuntime
from tests.streamer.scenario.support import T0, facing, head, sample, scene_bounds

FPS = 10
CYLINDER = (2.5, 0.725, 7.0)
BUTTON = (-7.92, 1.4, 0.0)


class Trainee:
    """Drives a runtime frame by frame, as the streamer does, keeping the whole log."""

    def __init__(self, runtime: ScenarioRuntime) -> None:
        self.runtime = runtime
        self.log: list[Entry] = runtime.start(T0)

    def stand(self, pose: Pose, from_s: float, to_s: float) -> list[Entry]:
        """Frames at FPS from `from_s` to `to_s` (inclusive), all at `pose`."""
        new: list[Entry] = []
        for frame in range(round(from_s * FPS), round(to_s * FPS) + 1):
            new += self.runtime.step(T0 + frame / FPS, pose)
        self.log += new
        return new

    def fired(self) -> list[object]:
        return [e["trigger"] for e in self.log if e["kind"] == "trigger_fired"]


@pytest.fixture
def gas_leak() -> Trainee:
    return Trainee(ScenarioRuntime(sample("gas-leak-warehouse"), scene_bounds("warehouse.glb")))


def test_the_gas_leak_needs_its_warehouse_nodes_and_one_dynamic_light(gas_leak: Trainee) -> None:
    assert gas_leak.runtime.dynamic_nodes == (
        "gas_cylinder",
        "alarm_light",
        "alarm_button",
        "exit_north",
        "exit_south",
        "coworker",
    )
    assert gas_leak.runtime.dynamic_lights == ("alarm_light",)
    assert gas_leak.runtime.scene_state(T0).light_gains == {"alarm_light": 0.0}


def test_the_leak_starts_after_twenty_seconds_with_a_fog_ramp(gas_leak: Trainee) -> None:
    at_start = head(0.0, 2.0, yaw_deg=180)

    assert gas_leak.fired() == []
    assert gas_leak.stand(at_start, 0.0, 19.9)[0]["kind"] == "pose"
    assert gas_leak.fired() == []
    leak = [e for e in gas_leak.stand(at_start, 20.0, 20.0) if e["kind"] != "pose"]

    assert leak == [
        {"t": 20.0, "kind": "trigger_fired", "trigger": "leak-starts", "cause": "time_elapsed"},
        {
            "t": 20.0,
            "kind": "effect",
            "trigger": "leak-starts",
            "do": "set_fog",
            "density": 0.15,
            "over_s": 30.0,
        },
        {
            "t": 20.0,
            "kind": "effect",
            "trigger": "leak-starts",
            "do": "caption",
            "text": "You hear a loud hiss from the shelves and smell gas.",
            "for_s": 6.0,
        },
    ]
    state = gas_leak.runtime.scene_state
    assert [state(T0 + t).fog_density for t in (20, 35, 50, 60)] == pytest.approx(
        [0.0, 0.075, 0.15, 0.15]
    )
    assert gas_leak.runtime.caption(T0 + 25.9) is not None
    assert gas_leak.runtime.caption(T0 + 26.0) is None
    poses = [e for e in gas_leak.log if e["kind"] == "pose"]
    assert len(poses) == 101  # 20 s at 5 Hz, both ends included
    assert poses[0]["p"] == [0.0, 1.6, 2.0]


def test_a_walk_through_the_whole_gas_leak_ends_in_success_by_the_north_exit(
    gas_leak: Trainee,
) -> None:
    runtime = gas_leak.runtime
    gas_leak.stand(head(0.0, 2.0, yaw_deg=180), 0.0, 24.9)  # the leak starts at 20 s

    # into the gas (2.5 m from the cylinder), out, and back in: warned both times
    gas_leak.stand(head(2.5, 4.5, yaw_deg=180), 25.0, 25.0)
    assert runtime.scene_state(T0 + 27.0).fog_density == pytest.approx(0.5)
    gas_leak.stand(head(0.0, 2.0, yaw_deg=180), 28.0, 28.0)
    gas_leak.stand(head(2.5, 4.5, yaw_deg=180), 30.0, 30.0)
    assert gas_leak.fired() == ["leak-starts", "too-close-to-leak", "too-close-to-leak"]

    # a steady look at the cylinder: noticed after 1.5 s
    gas_leak.stand(facing((2.5, 1.6, 4.5), CYLINDER), 31.0, 32.4)
    assert gas_leak.fired()[-1] == "too-close-to-leak"
    gas_leak.stand(facing((2.5, 1.6, 4.5), CYLINDER), 32.5, 32.5)
    assert gas_leak.fired()[-1] == "noticed-cylinder"

    # to the call point, pressed by looking at it: flash, the colleague sets off
    at_button = facing((-7.0, 1.6, 0.0), BUTTON)
    gas_leak.stand(at_button, 33.0, 40.0)
    pressed = runtime.act(T0 + 40.0, at_button, "use", None)
    gas_leak.log += pressed
    assert [(e["kind"], e.get("do")) for e in pressed] == [
        ("act", None),
        ("trigger_fired", None),
        ("effect", "flash_light"),
        ("effect", "move_actor"),
        ("effect", "caption"),
    ]
    assert pressed[0] == {"t": 40.0, "kind": "act", "object": "alarm-button", "action": "use"}
    assert pressed[3] == {
        "t": 40.0,
        "kind": "effect",
        "trigger": "alarm-raised",
        "do": "move_actor",
        "actor": "coworker",
        "path": "coworker-to-north-exit",
    }
    lights = [runtime.scene_state(T0 + t).light_gains["alarm_light"] for t in (40.25, 40.75)]
    assert lights == [1.0, 0.0]
    offsets = [runtime.scene_state(T0 + t).offsets["coworker"] for t in (40.0, 41.0, 45.0)]
    assert offsets == [
        pytest.approx((0.0, 0.0, 0.0)),
        pytest.approx((0.0, 0.0, -1.4)),
        pytest.approx((0.0, 0.0, -7.0)),
    ]

    gas_leak.log += runtime.instructor_event(T0 + 42.0, "coworker-freezes", "instructor-1")

    # out by the north exit
    gas_leak.stand(head(0.0, -6.0), 43.0, 49.9)
    end = gas_leak.stand(head(0.0, -10.5), 50.0, 50.0)
    assert end[-1] == {
        "t": 50.0,
        "kind": "scenario_ended",
        "outcome": "success",
        "message": "You left by the north exit, away from the leak.",
        "by": "trigger:out-north",
    }
    assert runtime.outcome == "success"
    assert gas_leak.fired() == [
        "leak-starts",
        "too-close-to-leak",
        "too-close-to-leak",
        "noticed-cylinder",
        "alarm-raised",
        "coworker-stays",
        "out-north",
    ]
    assert runtime.snapshot(T0 + 60)["fired"] == gas_leak.fired()
    assert json.loads(json.dumps(gas_leak.log)) == gas_leak.log  # the log is JSON as it is
    snapshot = runtime.snapshot(T0 + 60)
    assert json.loads(json.dumps(snapshot)) == snapshot
    times = [e["t"] for e in gas_leak.log]
    assert times == sorted(times)  # type: ignore[type-var]

    # nothing after the end
    assert gas_leak.stand(head(0.0, 11.0), 51.0, 52.0) == []
    with pytest.raises(NotRunningError):
        runtime.act(T0 + 53.0, at_button, "use", "alarm-button")


def test_the_traffic_stop_runs_in_the_street_corner_scene() -> None:
    runtime = ScenarioRuntime(sample("traffic-stop-night"), scene_bounds("street_corner.glb"))
    runtime.start(T0)

    assert runtime.dynamic_lights == ("light_bar_red", "light_bar_blue", "streetlamp_3")
    runtime.step(T0, head(1.5, -8.0))  # lights-on at 0 s: both bars flash, period 0.6 s
    gains = [runtime.scene_state(T0 + t).light_gains for t in (0.1, 0.4)]
    assert gains == [
        {"light_bar_red": 1.0, "light_bar_blue": 1.0, "streetlamp_3": 1.0},
        {"light_bar_red": 0.0, "light_bar_blue": 0.0, "streetlamp_3": 1.0},
    ]
    runtime.instructor_event(T0 + 5.0, "lamp-fails", "instructor-1")
    assert runtime.scene_state(T0 + 5.0).light_gains["streetlamp_3"] == 0.0

    ended = runtime.act(T0 + 9.0, head(1.5, -8.0), "use", "police-car")

    assert ended[-1]["kind"] == "scenario_ended"
    assert runtime.outcome == "success"
