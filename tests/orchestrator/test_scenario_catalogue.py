"""The scenario catalogue: two built-ins plus one scenario per .glb file."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import UnknownScenarioError
from orchestrator.scenarios import ScenarioCatalogue


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
