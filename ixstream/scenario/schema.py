"""The scenario format's JSON Schema, generated from the models so it cannot drift.

Editors (VS Code's YAML extension, JetBrains) validate and autocomplete a YAML file
against it; the orchestrator serves it at `GET /v1/scenarios/schema`. Cross-references
(an effect naming an object) are beyond JSON Schema: the loader checks those.
"""

from __future__ import annotations

from typing import Any

from ixstream.scenario.model import FORMAT_VERSION, Scenario

SCHEMA_ID = f"urn:ixstream:scenario:format:{FORMAT_VERSION}"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario document."""
    schema = Scenario.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": f"IX Stream scenario, format {FORMAT_VERSION}",
        "description": "One training scenario: what is learnt, where, with what, and what "
        "happens when. Ids referenced by triggers and effects are checked by the loader.",
    }
