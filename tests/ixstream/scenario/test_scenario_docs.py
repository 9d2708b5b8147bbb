"""docs/scenarios.md stays true: its annotated example is a valid scenario."""

from __future__ import annotations

from pathlib import Path

from ixstream.scenario import parse_scenario

DOCS = Path(__file__).resolve().parents[3] / "docs" / "scenarios.md"


def test_the_annotated_example_in_the_docs_validates() -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("## An annotated example", 1)[1].split("```yaml\n", 1)[1].split("```")[0]
    scenario = parse_scenario(example, "docs/scenarios.md")
    assert scenario.id == "traffic-stop-night"
    assert [t.id for t in scenario.triggers] == ["lights-on", "stepped-into-lane", "driver-reaches"]
