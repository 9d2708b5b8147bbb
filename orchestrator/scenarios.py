"""The scenario catalogue: which training content a session can ask for.

Two scenarios are built in: `sample` (the streamer's own sample training scene) and
`test-pattern` (the deterministic test source, cheapest to run). Every `*.glb` file in
`scenes_dir` adds one more, named by its file stem. Content stays glTF 2.0, an open
standard, so scenarios are files an author can drop in, not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.backends.base import Source
from orchestrator.errors import UnknownScenarioError

SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    source: Source
    scene: str | None = None


BUILT_IN = (Scenario("sample", "scene"), Scenario("test-pattern", "test-pattern"))


class ScenarioCatalogue:
    def __init__(self, scenes_dir: Path | None) -> None:
        self._scenes_dir = scenes_dir

    def all(self) -> list[Scenario]:
        found = {s.name: s for s in BUILT_IN}
        if self._scenes_dir is not None and self._scenes_dir.is_dir():
            for path in sorted(self._scenes_dir.glob("*.glb")):
                name = path.stem.lower()
                if SCENARIO_NAME.match(name) and name not in found:
                    found[name] = Scenario(name, "scene", str(path.resolve()))
        return list(found.values())

    def get(self, name: str) -> Scenario:
        for scenario in self.all():
            if scenario.name == name:
                return scenario
        known = ", ".join(s.name for s in self.all())
        raise UnknownScenarioError(f"no scenario named {name!r}; known scenarios: {known}")
