"""The helm binary for every chart test module (skipped, with the reason, without one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s.chart import find_helm


@pytest.fixture(scope="session")
def helm() -> Path:
    return find_helm()
