"""The sample scene generator: deterministic, and the shipped asset is what it produces."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from streamer.render.factory import default_scene_path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_scene.py"


def load_script() -> ModuleType:
    # A script run directly finds its sibling meshkit.py on sys.path[0]; mirror that.
    if str(SCRIPT.parent) not in sys.path:
        sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("make_scene", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


def test_the_shipped_scene_is_what_the_script_generates() -> None:
    make_scene = load_script()

    generated = make_scene.build_scene().export(file_type="glb", include_normals=False)

    assert generated == default_scene_path().read_bytes(), (
        "streamer/assets/street_corner.glb is stale: run `python scripts/make_scene.py`"
    )


def test_the_shipped_scene_fits_in_a_commit() -> None:
    assert default_scene_path().stat().st_size < 600_000
