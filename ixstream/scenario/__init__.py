"""Training scenarios as declarative documents (issue 6): the format, its loader and its
JSON Schema. Pure: no orchestrator or streamer import, so both can use it."""

from ixstream.scenario.loader import (
    MAX_SCENARIO_BYTES,
    Issue,
    ScenarioError,
    load_scenario,
    parse_scenario,
)
from ixstream.scenario.model import FORMAT_VERSION, Scenario
from ixstream.scenario.schema import json_schema

__all__ = [
    "FORMAT_VERSION",
    "MAX_SCENARIO_BYTES",
    "Issue",
    "Scenario",
    "ScenarioError",
    "json_schema",
    "load_scenario",
    "parse_scenario",
]
