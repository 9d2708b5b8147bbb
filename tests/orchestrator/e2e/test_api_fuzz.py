"""The fuzz stage: Schemathesis generates requests from the orchestrator's own OpenAPI
document and sends them to a real `ixstream up` over HTTP, once with each role's token,
with every check on: no 5xx, no status code, content type or header the document does
not list, 405s that name every allowed method, schema-valid requests accepted (beyond
the few state-dependent refusals `fuzz/schemathesis.toml` names, each with its reason),
invalid ones refused. Bounded: about 20 s of fuzzing per role.

Two of Schemathesis' stateful heuristics are left out, because they assume a REST
shape this API does not have, on purpose:
- `use_after_free`: DELETE /v1/sessions/{id} ends a session (202, `ending`); it stays
  readable as `ended` for `ended_retention_s`, an audit trail (docs/orchestrator.md).
- `ensure_resource_availability`: a new session's after-action log and recording exist
  only once the scenario has logged something, or the recorded session has ended;
  until then each is a documented 404.

It fails with Schemathesis' own report, which names each failing request as a curl
command to reproduce it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.identity import Role
from tests.orchestrator.conftest import ROOT, UpProcess, api_token

pytestmark = pytest.mark.e2e

FUZZ = Path(__file__).resolve().parent / "fuzz"
SECONDS_PER_ROLE = 20


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_the_api_answers_every_generated_request_as_its_document_says(
    role: Role, orchestrator_up: Callable[..., UpProcess], tmp_path: Path
) -> None:
    library = tmp_path / "library"
    shutil.copytree(ROOT / "scenarios", library)
    up = orchestrator_up(pool=0, max_sessions=1, env={"IXS_ORCH_SCENARIO_DIR": str(library)})
    st = Path(sys.executable).with_name("st")
    token = api_token(f"fuzz-{role.value}", role)
    command = [
        str(st), "--config-file", str(FUZZ / "schemathesis.toml"),
        "run", f"{up.base_url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--exclude-checks", "use_after_free,ensure_resource_availability",
        "--max-time", str(SECONDS_PER_ROLE),
        "--workers", "1",
        "--request-timeout", "10",
        "--suppress-health-check", "all",
        "--no-color",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(FUZZ / "hooks.py")},
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found problems:\n{report[-12000:]}"
    assert "Tested:" in report
    assert up.proc.poll() is None, f"the orchestrator died under fuzzing:\n{up.log()}"
