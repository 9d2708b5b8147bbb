"""A small locust run against `ixstream up`: 10 trainees for 15 s creating, reading,
spectating and deleting sessions (queueing when full), with zero failures."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.orchestrator.conftest import API_SECRET, ROOT, UpProcess

pytestmark = pytest.mark.e2e


def test_ten_users_for_fifteen_seconds_see_no_failures(
    orchestrator_up: Callable[..., UpProcess], tmp_path: Path
) -> None:
    up = orchestrator_up(pool=1, max_sessions=2)
    prefix = tmp_path / "locust"
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "load_tests" / "locustfile.py"),
         "--headless", "-u", "10", "-r", "5", "-t", "15s", "--host", up.base_url,
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
        cwd=ROOT, env={**os.environ, "IXS_LOAD_JWT_SECRET": API_SECRET},
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    with (tmp_path / "locust_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    total = rows["Aggregated"]
    assert int(total["Request Count"]) > 50, total
    failures = (tmp_path / "locust_failures.csv").read_text()
    assert int(total["Failure Count"]) == 0, failures
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("POST /v1/sessions", "GET /v1/sessions/{id}",
                 "POST /v1/sessions/{id}/spectators", "DELETE /v1/sessions/{id}"):  # fmt: skip
        assert int(rows[name]["Request Count"]) > 0, name
