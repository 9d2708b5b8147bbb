"""Rendering `helm/ixstream` with a real helm binary, and reading its values and schema,
for the chart tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

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
