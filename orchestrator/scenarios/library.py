"""The scenario library: a folder of scenario documents, `<id>.yaml`, one per scenario.

Files are the source of truth, so an author can also drop one in by hand or keep the
folder in version control; the API reads them on each request (they are small and
few) and writes through `put`, which validates first and replaces the file atomically
(a temporary file in the same folder, then `os.replace`), so a reader never sees half
a document and a refused upload leaves the old one in place. A file that does not
validate is left out of listings and logged, never served.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import structlog

from ixstream.scenario import ScenarioError, load_scenario, parse_scenario
from ixstream.scenario.model import Scenario
from orchestrator.errors import ScenarioInvalidError, ScenarioNotFoundError

SUFFIX = ".yaml"
#: The format's id pattern (`ixstream.scenario.model.Slug`): also a safe file name.
SCENARIO_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
#: Ids the API's own paths use (`/v1/scenarios/schema`), never scenario files.
RESERVED_IDS = frozenset({"schema"})

log = structlog.get_logger("orchestrator.scenarios")


#: What identifies one version of a file without reading it: (mtime_ns, size, inode).
Version = tuple[int, int, int]


class ScenarioLibrary:
    def __init__(self, directory: Path, scene_dirs: Sequence[Path] = ()) -> None:
        self.directory = directory
        self._scene_dirs = tuple(scene_dirs)
        #: Parsed documents by file, with the version they were parsed from: every
        #: session start looks its scenario up, and parsing costs ~8 ms a document.
        #: A file replaced (by `put`, by hand, by a volume sync) has a new version.
        self._parsed: dict[Path, tuple[Version, Scenario]] = {}

    def _load(self, path: Path) -> Scenario:
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        scenario = load_scenario(path, self._scene_dirs)
        self._parsed[path] = (version, scenario)
        return scenario

    def all(self) -> list[Scenario]:
        """Every valid scenario, by id."""
        found = []
        if self.directory.is_dir():
            for path in sorted(self.directory.glob(f"*{SUFFIX}")):
                if not SCENARIO_ID.match(path.stem):
                    continue
                try:
                    found.append(self._load(path))
                except ScenarioError as exc:
                    log.warning("scenario_invalid", file=str(path), error=str(exc))
        return [s for s in found if s.id not in RESERVED_IDS]

    def get(self, scenario_id: str) -> Scenario:
        path = self._path(scenario_id)
        if path is None or not path.is_file():
            raise ScenarioNotFoundError(f"no scenario {scenario_id!r} in the library")
        try:
            return self._load(path)
        except ScenarioError as exc:
            raise ScenarioNotFoundError(
                f"scenario {scenario_id!r} is in the library but does not validate: {exc}"
            ) from exc

    def put(self, scenario_id: str, document: bytes) -> tuple[Scenario, bool]:
        """Validate `document` as scenario `scenario_id` and store it; returns the
        scenario and whether it is new (False: it replaced one)."""
        path = self._path(scenario_id)
        if path is None:
            raise ScenarioInvalidError(
                f"{scenario_id!r} cannot name a scenario (reserved, or not an id)", []
            )
        try:
            scenario = parse_scenario(
                document, path.name, expected_id=scenario_id, scene_dirs=self._scene_dirs
            )
        except ScenarioError as exc:
            raise ScenarioInvalidError(str(exc), [asdict(i) for i in exc.issues]) from exc
        created = not path.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".upload-", suffix=SUFFIX)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(document)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return scenario, created

    def _path(self, scenario_id: str) -> Path | None:
        if scenario_id in RESERVED_IDS or not SCENARIO_ID.match(scenario_id):
            return None
        return self.directory / f"{scenario_id}{SUFFIX}"
