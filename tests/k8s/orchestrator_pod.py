"""Reading the orchestrator's pod template the way the cluster and the image will use
it, for the chart and plain-manifest tests: where its volumes are mounted, the settings
its environment gives `OrchestratorSettings`, and what its seeding init container does
when its shell script runs on real folders.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.settings import OrchestratorSettings

ROOT = Path(__file__).resolve().parents[2]
#: Where docker/orchestrator.Dockerfile copies the sample scenarios.
SAMPLES_IN_IMAGE = "/opt/ixstream/share/scenarios"
LIBRARY = "/var/lib/ixstream/scenarios"
RECORDS = "/var/lib/ixstream/records"
#: Stands in for values the cluster fills in (secretKeyRef, fieldRef): random-looking,
#: as the generated secrets are, so the key-strength checks accept it.
FROM_THE_CLUSTER = "from-the-cluster-Q7v2pX9kLm4RzT8wN3bY6cJ1hF5dG0sA"


def orchestrator_pod(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    deployment = next(
        d
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-orchestrator")
    )
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c for c in pod["containers"] + pod.get("initContainers", []) if c["name"] == name
    )
    return found


def mounts(pod: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """Mount path → the pod volume mounted there, for one container."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    return {m["mountPath"]: volumes[m["name"]] for m in container(pod, name)["volumeMounts"]}


def settings_from_env(
    env: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> OrchestratorSettings:
    """`OrchestratorSettings` exactly as the container's environment builds it."""
    for name in [n for n in os.environ if n.startswith("IXS_ORCH_")]:
        monkeypatch.delenv(name)
    for item in env:
        monkeypatch.setenv(item["name"], item.get("value", FROM_THE_CLUSTER))
    return OrchestratorSettings()


def run_seed_script(init: dict[str, Any], samples: Path, library: Path) -> str:
    """Run the init container's command with `sh`, its image paths pointed at folders."""
    command = [
        part.replace(SAMPLES_IN_IMAGE, str(samples)).replace(LIBRARY, str(library))
        for part in init["command"]
    ]
    assert command[0] == "sh", command  # the slim Python image has POSIX sh (dash)
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("no sh on this machine")
    done = subprocess.run(
        [sh, *command[1:]], capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout


def uses_no_clobber_copy(script: str) -> bool:
    """Every `cp` in the script is `cp -n`: a copy never replaces an existing file."""
    copies = re.findall(r"\bcp\b[^\n;&|]*", script)
    return bool(copies) and all(re.match(r"cp\s+-n\s", c) for c in copies)
