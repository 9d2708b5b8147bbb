"""The web client's modules without a browser: the pure ones (reprojection maths, eye
description, protocol messages, frame matching, motion-to-photon, stats, wording,
sign-in) under node's own test runner (tests/web/unit/*.test.mjs import
clients/web/js/*.js directly, no build step), and every module's JSDoc types under the
TypeScript compiler in strict mode (checking only: nothing is compiled or served).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent / "unit"
SUPPORT = Path(__file__).resolve().parents[2] / "clients" / "web" / "test-support"
TSC = SUPPORT / "node_modules" / "typescript" / "bin" / "tsc"


def test_the_client_modules_pass_their_node_unit_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (Node.js 20+ runs the web client's unit tests)")
    tests = sorted(str(p) for p in UNIT.glob("*.test.mjs"))
    assert tests, f"no unit tests under {UNIT}"
    result = subprocess.run(
        [node, "--test", *tests], capture_output=True, text=True, timeout=120, check=False
    )
    summary = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert any(line.startswith("# pass") for line in summary), summary


def test_the_client_modules_jsdoc_types_check_in_strict_mode() -> None:
    node = shutil.which("node")
    if node is None or not TSC.exists():
        pytest.skip("run `npm ci --prefix clients/web/test-support` to install the type checker")
    result = subprocess.run(
        [node, str(TSC), "-p", str(SUPPORT / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
