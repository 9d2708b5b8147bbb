"""A streamer runs a scenario end to end: a real streamer process renders the warehouse
with llvmpipe, the orchestrator's control API loads the gas-leak scenario, a headless
WebRTC trainee walks into a trigger zone and acts, an instructor fires an event; the
triggers fire in the timeline, change the encoded picture, and reach the trainee as
notices. Recording is off unless asked for; when on, the file decodes to its frames.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from ixclient.viewer import ViewerClient
from ixstream.scenario import load_scenario
from streamer.auth import Role, mint_token
from streamer.render.factory import resolve_scene_path
from streamer.render.gltf import load_scene
from tests.conftest import StreamerProcess
from tests.streamer.scenario.views import HOME, IN_THE_LEAK, fog_settles_at, settled_view

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
GAS = ROOT / "scenarios" / "gas-leak-warehouse.yaml"
TRAFFIC = ROOT / "scenarios" / "traffic-stop-night.yaml"
WAREHOUSE = "warehouse.glb"  # a bare name: the streamer finds its shipped copy


def control(streamer: StreamerProcess, role: Role = "orchestrator") -> dict[str, str]:
    token = mint_token(streamer.secret, role, streamer.session_id, subject="orchestrator")
    return {"Authorization": f"Bearer {token}"}


def document(path: Path) -> dict[str, Any]:
    return load_scenario(path, [ROOT / "streamer" / "assets"]).model_dump(mode="json")


def start_warehouse(factory: Callable[..., StreamerProcess]) -> StreamerProcess:
    args = ("--scene", WAREHOUSE, "--width", "320", "--height", "176", "--fps", "30")
    return factory(*args)


async def call(streamer: StreamerProcess, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The control API, as the orchestrator calls it (without blocking the trainee's loop)."""
    async with httpx.AsyncClient(base_url=streamer.base_url, timeout=30) as http:
        return await http.request(method, path, headers=control(streamer), **kwargs)


def set_up(streamer: StreamerProcess, record: bool = False) -> httpx.Response:
    body = {"scenario": document(GAS), "record": record}
    return httpx.put(
        f"{streamer.base_url}/v1/scenario", json=body, headers=control(streamer), timeout=30
    )


async def timeline(streamer: StreamerProcess) -> list[dict[str, Any]]:
    response = await call(streamer, "GET", "/v1/scenario/log")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    return entries


async def scenario(streamer: StreamerProcess) -> dict[str, Any]:
    """The run at a glance, as the instructor's console reads it."""
    response = await call(streamer, "GET", "/v1/scenario")
    assert response.status_code == 200, response.text
    snapshot: dict[str, Any] = response.json()
    return snapshot


async def command(streamer: StreamerProcess, **body: Any) -> httpx.Response:
    return await call(
        streamer, "POST", "/v1/scenario/commands", json={"by": "instructor-ida", **body}
    )


def trainee(streamer: StreamerProcess) -> ViewerClient:
    """A trainee that stands still until told where to go (connects in `async with`)."""
    client = ViewerClient(streamer.whep_url, streamer.token("trainee"))
    client.auto_move = False
    return client


def test_the_control_api_is_the_orchestrators_alone(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    streamer = start_warehouse(streamer_factory)
    url = f"{streamer.base_url}/v1/scenario"
    body = {"scenario": document(GAS), "record": False}
    assert httpx.put(url, json=body).status_code == 401
    roles: tuple[Role, ...] = ("trainee", "instructor", "spectator")
    for role in roles:
        refused = httpx.put(url, json=body, headers=control(streamer, role))
        assert refused.status_code == 403
        assert refused.json()["detail"] == f"role {role!r} may not control the streamer"
    # The orchestrator's token cannot open a viewer session.
    whep = httpx.post(
        streamer.whep_url,
        content="v=0\r\n",
        headers={**control(streamer), "Content-Type": "application/sdp"},
    )
    assert whep.status_code == 403
    assert "may not view a session" in whep.text

    # Wrong scene, malformed document: refused, and the streamer can still be set up.
    other = httpx.put(
        url, json={"scenario": document(TRAFFIC), "record": False}, headers=control(streamer)
    )
    assert other.status_code == 422
    assert other.json()["detail"] == (
        "scenario 'traffic-stop-night' takes place in 'street_corner.glb', "
        "but this streamer renders 'warehouse.glb'"
    )
    broken = {**document(GAS), "triggers": []}
    bad = httpx.put(url, json={"scenario": broken}, headers=control(streamer))
    assert bad.status_code == 422
    assert any(e["loc"][-1] == "triggers" for e in bad.json()["detail"])
    assert httpx.get(url, headers=control(streamer)).status_code == 404

    # More objects than the renderer has slots for: refused with the limit, not a 500,
    # and the stream goes on as authored.
    crowded = document(GAS)
    used = {o["node"] for o in crowded["objects"]} | {a["node"] for a in crowded["actors"]}
    spare = sorted(set(load_scene(resolve_scene_path(Path(WAREHOUSE))).node_bounds) - used)
    extra = [{"id": f"thing-{i}", "node": n} for i, n in enumerate(spare[: 33 - len(used)])]
    crowded["objects"] = crowded["objects"] + extra
    too_many = httpx.put(url, json={"scenario": crowded}, headers=control(streamer), timeout=30)
    assert too_many.status_code == 422, too_many.text
    assert "33 dynamic nodes: the renderer holds at most 32" in too_many.json()["detail"]
    assert httpx.get(f"{streamer.base_url}/readyz").status_code == 200

    assert set_up(streamer).status_code == 200
    again = set_up(streamer)
    assert again.status_code == 409
    assert again.json()["detail"] == "this session is set up already"
    # Nobody has joined: the scenario has not started, so commands wait.
    early = asyncio.run(command(streamer, command="event", event="gas-spreads"))
    assert early.status_code == 409
    snapshot = httpx.get(url, headers=control(streamer)).json()
    assert (snapshot["started"], snapshot["fired"]) == (False, [])


async def test_a_trainee_walking_into_the_leak_fires_its_trigger_visibly(
    streamer_factory: Callable[..., StreamerProcess],
) -> None:
    streamer = start_warehouse(streamer_factory)
    assert (await asyncio.to_thread(set_up, streamer)).status_code == 200
    async with trainee(streamer) as client:
        first = await client.wait_for_notice(lambda n: n.scenario == "gas-leak-warehouse")
        assert (first.caption, first.paused, first.outcome) == (None, False, None)
        assert client.hello is not None
        assert client.hello.recording is False
        clear = await settled_view(client, HOME)

        seq = client.send_pose(0.0, IN_THE_LEAK)
        await client.wait_for_frame(min_seq=seq, timeout_s=20)
        warned = await client.wait_for_notice(lambda n: (n.caption or "").startswith("You are"))
        assert warned.caption == "You are walking into the gas. Turn back and use the other exit."
        await fog_settles_at(lambda: scenario(streamer), 0.5)  # the trigger thickens it over 2 s
        hazy = await settled_view(client, HOME)

        # Same place, same view: only the gas differs. It washes the contrast out.
        assert float(np.abs(hazy - clear).mean()) > 6.0
        assert float(hazy.std()) < 0.75 * float(clear.std())

        assert client.act(object_id="alarm-button")
        await client.wait_for_notice(lambda n: (n.caption or "").startswith("Alarm raised"))

    entries = await timeline(streamer)
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "scenario_started"
    fired = [e["trigger"] for e in entries if e["kind"] == "trigger_fired"]
    assert fired == ["too-close-to-leak", "alarm-raised"]
    leak = next(e for e in entries if e.get("trigger") == "too-close-to-leak")
    assert leak["cause"] == "enters_zone"
    act = next(e for e in entries if e["kind"] == "act")
    assert (act["object"], act["action"]) == ("alarm-button", "use")
    assert act["seq"] < next(e["seq"] for e in entries if e.get("trigger") == "alarm-raised")
    effects = [(e["trigger"], e["do"]) for e in entries if e["kind"] == "effect"]
    assert effects == [
        ("too-close-to-leak", "set_fog"),
        ("too-close-to-leak", "caption"),
        ("alarm-raised", "flash_light"),
        ("alarm-raised", "move_actor"),
        ("alarm-raised", "caption"),
    ]
    poses = [e for e in entries if e["kind"] == "pose"]
    assert len(poses) >= 10  # 5 Hz over the walk
    assert any(math.dist((p["p"][0], p["p"][2]), (2.5, 7.0)) < 3.0 for p in poses)
    # Recording was not asked for: there is none.
    assert (await call(streamer, "GET", "/v1/status")).json()["recording"] is False
    off = await call(streamer, "GET", "/v1/recording")
    assert off.status_code == 404


async def test_instructor_commands_change_the_view_and_end_the_run_recorded(
    streamer_factory: Callable[..., StreamerProcess], tmp_path: Path
) -> None:
    streamer = start_warehouse(streamer_factory)
    assert (await asyncio.to_thread(set_up, streamer, True)).status_code == 200
    assert (await call(streamer, "GET", "/v1/status")).json()["recording"] is True
    async with trainee(streamer) as client:
        await client.wait_for_notice(lambda n: n.scenario == "gas-leak-warehouse")
        assert client.hello is not None
        assert client.hello.recording is True  # the trainee is told
        clear = await settled_view(client, HOME)

        unknown = await command(streamer, command="event", event="fire-drill")
        assert unknown.status_code == 404
        assert "fire-drill" in unknown.json()["detail"]
        fired = await command(streamer, command="event", event="gas-spreads")
        assert fired.status_code == 200, fired.text
        assert fired.json()["fired"] == ["haze-thickens"]
        notice = await client.wait_for_notice(lambda n: (n.caption or "").startswith("The haze"))
        assert notice.caption == "The haze is getting thicker. Get out now."
        await fog_settles_at(lambda: scenario(streamer), 0.45)  # set_fog over 3 s
        hazy = await settled_view(client, HOME)
        assert float(np.abs(hazy - clear).mean()) > 6.0

        assert (await command(streamer, command="pause")).status_code == 200
        await client.wait_for_notice(lambda n: n.paused)
        assert (await command(streamer, command="resume")).status_code == 200
        ended = await command(streamer, command="end", outcome="partial", message="Left too late.")
        assert ended.status_code == 200
        assert ended.json()["outcome"] == "partial"
        final = await client.wait_for_notice(lambda n: n.outcome is not None)
        assert (final.outcome, final.message) == ("partial", "Left too late.")
        assert (await command(streamer, command="pause")).status_code == 409  # it is over

    entries = await timeline(streamer)
    story = [
        (e["kind"], e.get("action") or e.get("trigger") or e.get("outcome"))
        for e in entries
        if e["kind"] not in {"pose", "effect"}
    ]
    assert story == [
        ("scenario_started", None),
        ("instructor", "event"),
        ("trigger_fired", "haze-thickens"),
        ("instructor", "pause"),
        ("paused", None),
        ("instructor", "resume"),
        ("resumed", None),
        ("instructor", "end"),
        ("scenario_ended", "partial"),
    ]
    assert all(e["by"] == "instructor-ida" for e in entries if e["kind"] == "instructor")

    still = await call(streamer, "GET", "/v1/recording")
    assert still.status_code == 409
    stop = await call(streamer, "POST", "/v1/recording/stop")
    assert stop.status_code == 200, stop.text
    summary = stop.json()
    assert summary["frames"] > 30
    response = await call(streamer, "GET", "/v1/recording")
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    path = tmp_path / "session.mp4"
    path.write_bytes(response.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 320, 176)
        decoded = sum(1 for _ in container.decode(stream))
    assert decoded == summary["frames"]
