"""The scenario loader: both shipped samples validate, and each broken variant of them
(made by editing one line of a sample here) is refused with a message naming the file,
the exact line and the field, the way an author would need to find it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixstream.scenario import MAX_SCENARIO_BYTES, ScenarioError, load_scenario, parse_scenario
from ixstream.scenario.model import EndScenario, FlashLight, InstructorSignal

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = ROOT / "scenarios"
ASSETS = ROOT / "streamer" / "assets"
TRAFFIC = "traffic-stop-night.yaml"
GAS = "gas-leak-warehouse.yaml"


def sample(name: str) -> str:
    return (LIBRARY / name).read_text(encoding="utf-8")


def refusal(name: str, old: str, new: str) -> str:
    """The error message for sample `name` with `old` (found exactly once) made `new`."""
    text = sample(name)
    assert text.count(old) == 1, f"{old!r} is not unique in {name}"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text.replace(old, new), name)
    return str(caught.value)


@pytest.mark.parametrize("name", [TRAFFIC, GAS])
def test_both_samples_validate_against_the_shipped_scenes(name: str) -> None:
    scenario = load_scenario(LIBRARY / name, scene_dirs=[ASSETS])
    assert scenario.id == name.removesuffix(".yaml")
    assert len(scenario.objectives) >= 3
    assert len({type(t.when) for t in scenario.triggers}) >= 3
    assert any(isinstance(t.when, InstructorSignal) for t in scenario.triggers)
    assert any(isinstance(e, EndScenario) for t in scenario.triggers for e in t.then)


def test_the_traffic_stop_flashes_the_light_bar_from_the_start() -> None:
    scenario = load_scenario(LIBRARY / TRAFFIC)
    first = scenario.triggers[0]
    assert [e.object for e in first.then if isinstance(e, FlashLight)] == [
        "light-bar-red",
        "light-bar-blue",
    ]
    assert scenario.start.position == (1.5, 0.0, -8.0)


def test_an_unknown_field_is_named_with_its_line() -> None:
    message = refusal(TRAFFIC, "    node: crosswalk\n", "    node: crosswalk\n    colour: red\n")
    assert f"{TRAFFIC}:44: objects[5].colour: Extra inputs are not permitted" in message


def test_a_missing_title_is_named_at_the_top_of_the_document() -> None:
    message = refusal(TRAFFIC, "title: Traffic stop at night\n", "")
    assert f"{TRAFFIC}:3: title: Field required" in message


def test_a_negative_zone_radius_is_refused_on_its_line() -> None:
    message = refusal(TRAFFIC, "radius_m: 1.2", "radius_m: -1.2")
    assert f"{TRAFFIC}:79: triggers[2].when.zone.radius_m: Input should be greater than 0" in (
        message
    )


def test_an_effect_naming_an_unknown_object_is_refused_where_it_names_it() -> None:
    message = refusal(TRAFFIC, "object: streetlamp-3", "object: streetlamp-9")
    assert f"{TRAFFIC}:98: triggers[4].then[0].object: no object named 'streetlamp-9'" in message


def test_a_trigger_waiting_for_an_unknown_instructor_event_is_refused() -> None:
    message = refusal(TRAFFIC, "event: lamp-fails", "event: lamp-explodes")
    assert (
        f"{TRAFFIC}:95: triggers[4].when.event: no instructor event named 'lamp-explodes'"
        in message
    )


def test_an_unknown_trigger_kind_is_named_at_its_kind_line() -> None:
    message = refusal(TRAFFIC, "kind: looks_at", "kind: stares_at")
    assert f"{TRAFFIC}:67: triggers[1].when.kind: Input tag 'stares_at'" in message


def test_duplicate_object_ids_are_refused_at_the_second_one() -> None:
    message = refusal(TRAFFIC, "  - id: crosswalk\n", "  - id: police-car\n")
    assert f"{TRAFFIC}:42: objects[5].id: duplicate id 'police-car' in objects" in message


def test_bad_yaml_indentation_is_refused_with_its_line() -> None:
    message = refusal(TRAFFIC, "    label: The stopped car\n", "      label: The stopped car\n")
    assert f"{TRAFFIC}:37: not valid YAML: mapping values are not allowed here" in message


def test_a_duration_that_is_not_a_number_is_refused() -> None:
    message = refusal(TRAFFIC, "expected_duration_min: 10", "expected_duration_min: ten")
    assert f"{TRAFFIC}:16: expected_duration_min: Input should be a valid number" in message


def test_an_empty_waypoint_path_is_refused() -> None:
    old = "    points:\n      - [-3.0, 0.0, 2.0]\n      - [-3.0, 0.0, -6.0]\n"
    message = refusal(GAS, old + "      - [0.0, 0.0, -11.0]\n", "    points: []\n")
    assert f"{GAS}:42: paths[0].points: List should have at least 1 item" in message


def test_an_outcome_outside_the_allowed_set_is_refused() -> None:
    message = refusal(TRAFFIC, "outcome: success", "outcome: victory")
    assert f"{TRAFFIC}:107: triggers[5].then[0].outcome: Input should be 'success'" in message


def test_another_format_version_is_refused() -> None:
    message = refusal(TRAFFIC, "format: 1", "format: 2")
    assert f"{TRAFFIC}:3: format: Input should be 1" in message


def test_a_key_written_twice_is_refused_rather_than_silently_overwritten() -> None:
    message = refusal(TRAFFIC, "domain: police\n", "domain: police\ndomain: fire\n")
    assert f"{TRAFFIC}:7: domain: duplicate key" in message


def test_switching_an_object_that_is_not_a_light_is_refused() -> None:
    message = refusal(TRAFFIC, "object: streetlamp-3", "object: crosswalk")
    assert f"{TRAFFIC}:98: triggers[4].then[0].object: object 'crosswalk' is a prop" in message


def test_moving_an_actor_along_an_unknown_path_is_refused() -> None:
    message = refusal(GAS, "path: coworker-to-north-exit", "path: coworker-to-roof")
    assert f"{GAS}:85: triggers[2].then[1].path: no path named 'coworker-to-roof'" in message


def test_an_id_that_is_not_a_slug_is_refused() -> None:
    message = refusal(TRAFFIC, "id: traffic-stop-night", "id: Traffic Stop")
    assert f"{TRAFFIC}:4: id: String should match pattern" in message


def test_a_missing_scene_file_is_refused_unless_marked_pending(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=f"{GAS}:19: scenes\\[0\\].path: no scene file"):
        parse_scenario(sample(GAS), GAS, scene_dirs=[tmp_path])
    marked = sample(GAS).replace(
        "path: warehouse.glb\n", "path: warehouse.glb\n    pending: true\n"
    )
    assert parse_scenario(marked, GAS, scene_dirs=[tmp_path]).scenes[0].pending


def test_a_file_whose_id_differs_from_its_name_is_refused() -> None:
    with pytest.raises(ScenarioError, match=f"{TRAFFIC}:4: id: must be 'night-stop'"):
        parse_scenario(sample(TRAFFIC), TRAFFIC, expected_id="night-stop")


def test_an_oversized_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(ScenarioError, match=f"larger than {MAX_SCENARIO_BYTES} bytes"):
        parse_scenario(b"#" * (MAX_SCENARIO_BYTES + 1), "big.yaml")


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"list\.yaml:1: a scenario is a mapping of fields"):
        parse_scenario("- one\n- two\n", "list.yaml")
