"""The scenario catalogue: two built-ins, one scenario per .glb file, then the library's
valid scenario documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import UnknownScenarioError
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.scenarios.library import ScenarioLibrary


def test_the_built_in_scenarios_are_always_there() -> None:
    names = [s.name for s in ScenarioCatalogue(None).all()]
    assert names == ["sample", "test-pattern"]


def test_each_glb_file_becomes_a_scenario_named_by_its_stem(tmp_path: Path) -> None:
    (tmp_path / "Fire-Drill.glb").write_bytes(b"glTF")
    (tmp_path / "notes.txt").write_text("not a scene")
    scenario = ScenarioCatalogue(tmp_path).get("fire-drill")
    assert scenario.source == "scene"
    assert scenario.scene == str((tmp_path / "Fire-Drill.glb").resolve())


def test_an_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(UnknownScenarioError, match="known scenarios: sample, test-pattern"):
        ScenarioCatalogue(None).get("moon-landing")


def test_library_documents_follow_the_built_ins_and_play_their_first_scene() -> None:
    root = Path(__file__).resolve().parents[3]
    assets = root / "streamer" / "assets"
    catalogue = ScenarioCatalogue(assets, ScenarioLibrary(root / "scenarios", [assets]))
    by_name = {s.name: s for s in catalogue.all()}
    traffic = by_name["traffic-stop-night"]
    assert traffic.title == "Traffic stop at night"
    assert traffic.domain == "police"
    assert traffic.scene == str((assets / "street_corner.glb").resolve())
    assert by_name["gas-leak-warehouse"].scene == str((assets / "warehouse.glb").resolve())


def test_a_library_file_that_does_not_validate_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("format: 1\nid: broken\n")
    assert [s.name for s in ScenarioCatalogue(None, ScenarioLibrary(tmp_path)).all()] == [
        "sample",
        "test-pattern",
    ]


def test_without_a_scenes_folder_the_streamer_is_told_the_scene_file_name(
    tmp_path: Path,
) -> None:
    root = Path(__file__).resolve().parents[3]
    catalogue = ScenarioCatalogue(None, ScenarioLibrary(root / "scenarios"))
    gas = catalogue.get("gas-leak-warehouse")
    assert gas.scene == "warehouse.glb"  # the streamer loads the copy it ships
    assert gas.document is not None
    assert gas.document.id == "gas-leak-warehouse"
    # A scene still being made cannot run: the sample plays, without the document.
    text = (root / "scenarios" / "gas-leak-warehouse.yaml").read_text()
    pending = text.replace(
        "    path: warehouse.glb\n", "    path: harbour.glb\n    pending: true\n"
    )
    (tmp_path / "gas-leak-warehouse.yaml").write_text(pending)
    waiting = ScenarioCatalogue(None, ScenarioLibrary(tmp_path)).get("gas-leak-warehouse")
    assert (waiting.scene, waiting.document) == (None, None)


def test_the_library_parses_a_file_once_and_again_when_it_changes(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    path = tmp_path / "gas-leak-warehouse.yaml"
    text = (root / "scenarios" / "gas-leak-warehouse.yaml").read_text()
    path.write_text(text)
    library = ScenarioLibrary(tmp_path)
    first = library.get("gas-leak-warehouse")
    assert library.get("gas-leak-warehouse") is first  # not parsed again
    path.write_text(text.replace('title: "Gas leak in a warehouse: evacuate"', "title: Gas drill"))
    assert library.get("gas-leak-warehouse").title == "Gas drill"  # edited by hand: re-read
    assert [s.title for s in library.all()] == ["Gas drill"]
