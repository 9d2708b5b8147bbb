"""The warehouse scene generator: deterministic, and the shipped asset is what it makes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_warehouse.py"
ASSET = ROOT / "streamer" / "assets" / "warehouse.glb"


def load_script() -> ModuleType:
    # A script run directly finds its sibling meshkit.py on sys.path[0]; mirror that.
    if str(SCRIPT.parent) not in sys.path:
        sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("make_warehouse", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_warehouse_is_what_the_script_generates() -> None:
    generated = load_script().build_scene().export(file_type="glb", include_normals=False)
    assert generated == ASSET.read_bytes(), (
        "streamer/assets/warehouse.glb is stale: run `python scripts/make_warehouse.py`"
    )


def test_the_shipped_warehouse_is_small() -> None:
    assert ASSET.stat().st_size < 100_000
