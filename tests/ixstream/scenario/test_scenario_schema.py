"""The published JSON Schema: editors validate with it, so the samples must pass it,
a misspelt field must fail it, and every field an author types has a description or a
title to show while autocompleting."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from ixstream.scenario import json_schema

LIBRARY = Path(__file__).resolve().parents[3] / "scenarios"


@pytest.mark.parametrize("name", ["traffic-stop-night.yaml", "gas-leak-warehouse.yaml"])
def test_both_samples_pass_the_published_schema(name: str) -> None:
    document = yaml.safe_load((LIBRARY / name).read_text(encoding="utf-8"))
    errors = jsonschema.Draft202012Validator(json_schema()).iter_errors(document)

    assert [f"{error.json_path}: {error.message}" for error in errors] == []


def test_a_misspelt_field_fails_the_schema_as_it_fails_the_loader() -> None:
    document = yaml.safe_load((LIBRARY / "traffic-stop-night.yaml").read_text(encoding="utf-8"))
    document["objectivs"] = document.pop("objectives")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(document)


def test_the_schema_is_a_valid_draft_2020_12_schema_with_a_title() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "IX Stream scenario, format 1"
    assert schema["$id"] == "urn:ixstream:scenario:format:1"


def test_every_kind_of_trigger_and_effect_is_offered_to_editors() -> None:
    definitions = json_schema()["$defs"]
    assert {"TimeElapsed", "EntersZone", "LooksAt", "ActsOn", "InstructorSignal"} <= set(
        definitions
    )
    assert {"ShowObject", "HideObject", "SwitchLight", "FlashLight", "MoveActor"} <= set(
        definitions
    )
    assert {"SetFog", "Caption", "EndScenario"} <= set(definitions)
    assert "description" in definitions["Zone"]["properties"]["radius_m"]
