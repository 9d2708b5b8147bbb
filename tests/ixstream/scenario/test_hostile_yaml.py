"""Scenario documents are uploaded by people, so the loader is a security edge: a
"billion laughs" alias bomb, an alias to its own parent and nesting deep enough to blow
Python's stack are each refused with the line, before anything walks the expansion,
while the anchors an author really writes (a waypoint list used twice) still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixstream.scenario import ScenarioError, parse_scenario
from ixstream.scenario.loader import MAX_ALIASES, MAX_DEPTH, MAX_EXPANDED_NODES

SAMPLE = Path(__file__).resolve().parents[3] / "scenarios" / "gas-leak-warehouse.yaml"


def billion_laughs(levels: int = 9, fanout: int = 9) -> str:
    """The classic bomb: each level lists the one before `fanout` times (~600 bytes
    that expand to fanout**levels strings)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnopqrstuvwxyz"
    for level in range(1, levels):
        refs = ",".join(f"*{names[level - 1]}" for _ in range(fanout))
        lines.append(f"{names[level]}: &{names[level]} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_document_is_refused_naming_the_line_where_it_explodes() -> None:
    bomb = billion_laughs()
    assert len(bomb) < 700
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(bomb, "bomb.yaml")
    # 9**5 = 59,049 nodes is the first level past the limit: the line of `e:`.
    assert str(caught.value) == (
        f"bomb.yaml:5: expands to more than {MAX_EXPANDED_NODES} nodes through anchors "
        "and aliases (&name, *name); write the repeated part out fewer times"
    )


def test_a_wide_fan_of_aliases_is_refused_at_the_alias_past_the_limit() -> None:
    refs = "\n".join("  - *x" for _ in range(MAX_ALIASES + 1))
    document = f"x: &x small\nmany:\n{refs}\n"
    with pytest.raises(ScenarioError, match=f"more than {MAX_ALIASES} aliases"):
        parse_scenario(document, "fan.yaml")


def test_an_alias_to_its_own_parent_is_refused_not_expanded_forever() -> None:
    with pytest.raises(ScenarioError, match=r"loop\.yaml:1: an alias refers to the node"):
        parse_scenario("a: &loop [1, *loop]\n", "loop.yaml")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000], ids=["just-too-deep", "stack-deep"])
def test_nesting_deeper_than_the_limit_is_refused(depth: int) -> None:
    document = "a: " + "[" * depth + "]" * depth + "\n"
    with pytest.raises(ScenarioError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_scenario(document, "deep.yaml")


def test_an_author_who_names_a_point_once_and_reuses_it_still_gets_their_scenario() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.count("[0.0, 0.0, -11.0]") == 2  # the path's end and the exit zone
    anchored = text.replace("- [0.0, 0.0, -11.0]", "- &north_exit [0.0, 0.0, -11.0]", 1)
    reused = anchored.replace("center: [0.0, 0.0, -11.0]", "center: *north_exit", 1)
    assert "*north_exit" in reused
    assert parse_scenario(reused, SAMPLE.name) == parse_scenario(text, SAMPLE.name)
