"""Rendering `helm/ixstream` with a real helm binary, and reading its values and schema,
for the chart tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.k8s.helm_binary import HelmUnavailableError, helm_binary
from tests.k8s.validation import load_documents

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "ixstream"


def find_helm() -> Path:
    """The helm binary, or skip the calling test with the reason there is none."""
    try:
        return helm_binary()
    except HelmUnavailableError as why:
        pytest.skip(f"no helm binary: {why}")


def render(helm: Path, *settings: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = [str(helm), "template", "ixs", str(CHART), "--namespace", "ixstream"]
    for item in settings:
        argv += ["--set", item]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=check)


def rendered(helm: Path, *settings: str) -> list[dict[str, Any]]:
    return load_documents(render(helm, *settings).stdout)


def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return loaded


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
    return loaded


def schema_complaint_about_an_extra_key(where: tuple[str, ...]) -> str | None:
    """What values.schema.json says of values.yaml with an unknown key added under
    `where` (None: it accepts it)."""
    bad = values()
    target = bad
    for key in where:
        target = target[key]
    target["surprise"] = True
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema()).iter_errors(bad))
    return None if error is None else error.message


def schema_rejects(path: tuple[str, ...], value: object) -> bool:
    """Whether values.schema.json refuses values.yaml with `path` set to `value`."""
    bad = values()
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return not jsonschema.Draft7Validator(schema()).is_valid(bad)
