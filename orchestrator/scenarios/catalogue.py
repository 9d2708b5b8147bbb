"""The scenario catalogue: which training content a session can ask for.

Two scenarios are built in: `sample` (the streamer's own sample training scene) and
`test-pattern` (the deterministic test source, cheapest to run). Every `*.glb` file in
`scenes_dir` adds one more, named by its file stem. Content stays glTF 2.0, an open
standard, so scenarios are files an author can drop in, not code.

Each scenario has a title and a description for people choosing one (the web client
shows them). A scene's come from an optional text file beside it, `<stem>.txt`: the
first line is the title, the rest the description; without one, the title is made from
the file name and there is no description. Plain text, so an author needs no tooling.

Scenario documents in the library (`orchestrator.scenarios.library`, issue 6) are listed
too, after those, by id, with their title, summary and domain. A session for one
streams its first scene (from `scenes_dir`, else the streamer's shipped copy of that
file), and the orchestrator loads the document onto its streamer, which runs its
triggers (`orchestrator.scenarios.link`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ixstream.scenario import Scenario as ScenarioDocument
from orchestrator.backends.base import Source
from orchestrator.errors import UnknownScenarioError
from orchestrator.scenarios.library import ScenarioLibrary

SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    source: Source
    scene: str | None = None
    title: str = ""
    description: str | None = None
    #: For scenario documents only: their domain and expected duration.
    domain: str | None = None
    expected_duration_min: float | None = None
    #: The scenario document itself (library entries only): loaded onto the session's
    #: streamer before the session is ready (`PUT /v1/scenario`).
    document: ScenarioDocument | None = None


BUILT_IN = (
    Scenario(
        "sample",
        "scene",
        title="Sample training room",
        description="The streamer's built-in sample scene: a small room to check that "
        "streaming, head tracking and controllers work before real training content.",
    ),
    Scenario(
        "test-pattern",
        "test-pattern",
        title="Test pattern",
        description="A moving test pattern and frame counter, cheapest to stream: for "
        "checking the network and the display, not for training.",
    ),
)


def title_from_stem(stem: str) -> str:
    """`fire-drill_2` → `Fire drill 2`: a readable title when the author gave none."""
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:]


def _scene_scenario(name: str, path: Path) -> Scenario:
    title, description = title_from_stem(path.stem), None
    notes = path.with_suffix(".txt")
    if notes.is_file():
        lines = notes.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if lines and lines[0].strip():
            title = lines[0].strip()
            description = "\n".join(lines[1:]).strip() or None
    return Scenario(name, "scene", str(path.resolve()), title, description)


class ScenarioCatalogue:
    def __init__(self, scenes_dir: Path | None, library: ScenarioLibrary | None = None) -> None:
        self._scenes_dir = scenes_dir
        self.library = library

    def all(self) -> list[Scenario]:
        found = {s.name: s for s in BUILT_IN}
        if self._scenes_dir is not None and self._scenes_dir.is_dir():
            for path in sorted(self._scenes_dir.glob("*.glb")):
                name = path.stem.lower()
                if SCENARIO_NAME.match(name) and name not in found:
                    found[name] = _scene_scenario(name, path)
        if self.library is not None:
            for document in self.library.all():
                found.setdefault(document.id, self._document_scenario(document))
        return list(found.values())

    def _document_scenario(self, document: ScenarioDocument) -> Scenario:
        """A library document's entry. Its first scene comes from `scenes_dir` when the
        file is there; otherwise the bare file name goes to the streamer, which loads the
        copy it ships (`warehouse.glb`: the same on a laptop and in a pod). A scene still
        being made (`pending`) cannot run: the session streams the sample scene, without
        the document."""
        first = document.scenes[0]
        scene: str | None = Path(first.path).name
        if self._scenes_dir is not None and (self._scenes_dir / first.path).is_file():
            scene = str((self._scenes_dir / first.path).resolve())
        elif first.pending:
            scene = None
        return Scenario(
            document.id,
            "scene",
            scene,
            document.title,
            document.summary,
            domain=document.domain,
            expected_duration_min=document.expected_duration_min,
            document=document if scene is not None else None,
        )

    def get(self, name: str) -> Scenario:
        for scenario in self.all():
            if scenario.name == name:
                return scenario
        known = ", ".join(s.name for s in self.all())
        raise UnknownScenarioError(f"no scenario named {name!r}; known scenarios: {known}")
