"""Scenario sessions end to end: the real app (in-process) with real streamer processes.

A session for a library document gets the document loaded on its streamer before it is
`ready`; once a trainee (the headless client) has connected, an instructor steers the
scenario: an unknown event is the streamer's 404 with its message, a trainee's command
is refused and never forwarded, every command is audited, and `end` ends the session.
Its after-action log, pulled while it ran and once more at its end, downloads in `seq`
order after the session ended. A session created with `record: true` leaves a playable
recording that instructors download after it ended."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from ixclient.viewer import ViewerClient
from orchestrator.identity import Role
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import EndReason, SessionState
from tests.orchestrator.conftest import ROOT, Harness, auth, streamer_pids
from tests.streamer.scenario.views import HOME, IN_THE_LEAK, fog_settles_at, settled_view
from tests.waiting import eventually

pytestmark = pytest.mark.e2e
MakeApp = Callable[..., AbstractAsyncContextManager[Harness]]
S = SessionState
TRAINEE = auth("alice")
INSTRUCTOR = auth("ivy", Role.INSTRUCTOR)
SCENARIO = "gas-leak-warehouse"


@asynccontextmanager
async def scenario_app(make_app: MakeApp, tmp_path: Path) -> AsyncIterator[Harness]:
    library = tmp_path / "library"
    shutil.copytree(ROOT / "scenarios", library)
    async with make_app(scenario_dir=library, scenes_dir=ROOT / "streamer" / "assets") as app:
        yield app


async def watch(session: Session, token: str, seconds: float = 2.0) -> dict[str, Any]:
    """The headless client watches the session straight from its streamer (the app
    under test runs in-process, so its own WHEP proxy has no port)."""
    assert session.streamer is not None
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ixstream", "client", f"{session.streamer.base_url}/whep",
         "--token", token, "--seconds", str(seconds), "--json", "--pose-hz", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def scrape_text(response: httpx.Response) -> str:
    assert response.status_code == 200
    return response.text


def commands_audited(app: Harness) -> list[tuple[Any, ...]]:
    records = map(json.loads, app.settings.audit_path.read_text().splitlines())
    return [
        (r["actor"], r["command"], r.get("instructor_event") or r.get("outcome"), r["result"])
        for r in records
        if r["action"] == "scenario.command"
    ]


async def test_an_instructor_steers_a_scenario_and_its_log_outlives_the_session(
    make_app: MakeApp, tmp_path: Path
) -> None:
    async with scenario_app(make_app, tmp_path) as app:
        client = app.client
        created = await client.post("/v1/sessions", json={"scenario": SCENARIO}, headers=TRAINEE)
        assert created.status_code == 201, created.text
        session = app.service.get_any(created.json()["id"])
        base = f"/v1/sessions/{session.id}"
        await eventually(lambda: session.state is not S.STARTING, what="started")
        assert session.state is S.READY, session.lifecycle.detail
        assert session.scenario_loaded

        before = await client.get(f"{base}/scenario", headers=TRAINEE)  # the owner may look
        assert before.status_code == 200, before.text
        assert (before.json()["scenario"], before.json()["started"]) == (SCENARIO, False)
        too_early = await client.post(
            f"{base}/scenario/commands", json={"command": "pause"}, headers=INSTRUCTOR
        )
        assert too_early.status_code == 409  # no trainee yet: nothing runs

        token = (await client.get(base, headers=TRAINEE)).json()["token"]
        report = await watch(session, token)
        assert report["frames"] > 0
        started = await client.get(f"{base}/scenario", headers=INSTRUCTOR)
        assert started.json()["started"] is True

        unknown = await client.post(
            f"{base}/scenario/commands",
            json={"command": "event", "event": "alien-landing"},
            headers=INSTRUCTOR,
        )
        assert unknown.status_code == 404
        assert unknown.headers["Content-Type"] == "application/problem+json"
        assert unknown.json()["detail"].startswith("the streamer says:")
        assert "alien-landing" in unknown.json()["detail"]

        refused = await client.post(
            f"{base}/scenario/commands", json={"command": "pause"}, headers=TRAINEE
        )
        assert refused.status_code == 403
        after_refusal = await client.get(f"{base}/scenario", headers=INSTRUCTOR)
        assert after_refusal.json()["paused"] is False  # never forwarded

        paused = await client.post(
            f"{base}/scenario/commands", json={"command": "pause"}, headers=INSTRUCTOR
        )
        assert (paused.status_code, paused.json()["paused"]) == (200, True)
        resumed = await client.post(
            f"{base}/scenario/commands", json={"command": "resume"}, headers=INSTRUCTOR
        )
        assert resumed.json()["paused"] is False
        event_id = started.json()["instructor_events"][0]["id"]
        fired = await client.post(
            f"{base}/scenario/commands",
            json={"command": "event", "event": event_id},
            headers=INSTRUCTOR,
        )
        assert fired.status_code == 200, fired.text
        ended = await client.post(
            f"{base}/scenario/commands",
            json={"command": "end", "outcome": "partial", "message": "left the valve open"},
            headers=INSTRUCTOR,
        )
        assert ended.status_code == 200, ended.text
        assert ended.json()["outcome"] == "partial"
        await eventually(lambda: session.state is S.ENDED, 20, "ended")
        assert session.lifecycle.reason == EndReason.SCENARIO_ENDED

        aar = await client.get(f"{base}/aar", headers=INSTRUCTOR)
        trainee_aar = await client.get(f"{base}/aar", headers=TRAINEE)
        audited = commands_audited(app)
        pull_failures = scrape_text(await client.get("/metrics"))

    assert aar.status_code == 200
    assert aar.headers["Content-Type"] == "application/x-ndjson"
    assert aar.headers["Content-Disposition"] == f'attachment; filename="{session.id}-aar.jsonl"'
    entries = [json.loads(line) for line in aar.text.splitlines()]
    assert [e["seq"] for e in entries] == list(range(len(entries)))  # all, once, in order
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "scenario_started"
    assert {"pose", "paused", "resumed", "instructor"} <= set(kinds)
    assert kinds[-1] == "scenario_ended"  # the final pull, before the streamer stopped
    assert entries[-1]["outcome"] == "partial"
    assert entries[-1]["by"] == "ivy"
    assert trainee_aar.status_code == 403
    assert "ixstream_orchestrator_aar_pull_failures_total 0.0" in pull_failures
    assert audited == [
        ("ivy", "pause", None, "error"),
        ("ivy", "event", "alien-landing", "error"),
        ("alice", "pause", None, "forbidden"),
        ("ivy", "pause", None, "ok"),
        ("ivy", "resume", None, "ok"),
        ("ivy", "event", event_id, "ok"),
        ("ivy", "end", "partial", "ok"),
    ]


async def test_a_document_the_streamer_refuses_fails_the_session_and_frees_the_streamer(
    make_app: MakeApp, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    shutil.copytree(ROOT / "scenarios", library)
    # The document validates, but names a node the warehouse does not have: only the
    # streamer, which has loaded the scene, can tell, and it refuses (C4: 422).
    document = library / f"{SCENARIO}.yaml"
    text = document.read_text()
    assert "node: gas_cylinder\n" in text
    document.write_text(text.replace("node: gas_cylinder\n", "node: gas_bottle\n"))
    async with make_app(scenario_dir=library) as app:
        created = await app.client.post(
            "/v1/sessions", json={"scenario": SCENARIO}, headers=TRAINEE
        )
        assert created.status_code == 201, created.text
        session = app.service.get_any(created.json()["id"])
        await eventually(lambda: session.state is not S.STARTING, what="settled")
        await eventually(lambda: not streamer_pids(tmp_path / "state"), 20, "streamer stopped")
    assert session.state is S.FAILED
    assert session.lifecycle.reason == "configure_failed"
    assert session.lifecycle.detail is not None
    assert session.lifecycle.detail.startswith(
        f"the streamer did not take scenario {SCENARIO!r}: the streamer says:"
    )
    assert "gas_bottle" in session.lifecycle.detail


async def test_a_recorded_session_leaves_a_playable_recording_after_it_ends(
    make_app: MakeApp,
) -> None:
    async with make_app() as app:
        created = await app.client.post("/v1/sessions", json={"record": True}, headers=INSTRUCTOR)
        assert created.status_code == 201, created.text
        assert created.json()["record"] is True
        session = app.service.get_any(created.json()["id"])
        await eventually(lambda: session.state is not S.STARTING, what="started")
        assert session.state is S.READY, session.lifecycle.detail
        await watch(session, created.json()["token"])
        await app.client.delete(f"/v1/sessions/{session.id}", headers=INSTRUCTOR)
        await eventually(lambda: session.state is S.ENDED, 30, "ended")
        response = await app.client.get(f"/v1/sessions/{session.id}/recording", headers=INSTRUCTOR)
        trainee = await app.client.get(f"/v1/sessions/{session.id}/recording", headers=TRAINEE)
        stored = app.settings.recordings_path / f"{session.id}.mp4"

    assert stored.is_file()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.content == stored.read_bytes()
    with av.open(str(stored)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 0
    assert trainee.status_code == 403


async def test_the_gas_leak_drill_end_to_end_zone_event_and_log(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """The issue's walk-through: start the gas-leak scenario, steer the trainee into the
    leak zone (its trigger fires: in the log, and the picture fills with gas), an
    instructor event (a visible change again), then the log holds it all in order."""
    async with scenario_app(make_app, tmp_path) as app:
        spec = {"scenario": SCENARIO, "width": 320, "height": 176, "fps": 30}
        created = await app.client.post("/v1/sessions", json=spec, headers=TRAINEE)
        assert created.status_code == 201, created.text
        session = app.service.get_any(created.json()["id"])
        base = f"/v1/sessions/{session.id}"
        await eventually(lambda: session.state is not S.STARTING, what="started")
        assert session.state is S.READY, session.lifecycle.detail
        assert session.streamer is not None

        trainee = ViewerClient(f"{session.streamer.base_url}/whep", created.json()["token"])
        trainee.auto_move = False

        async def snapshot() -> dict[str, Any]:
            response = await app.client.get(f"{base}/scenario", headers=INSTRUCTOR)
            assert response.status_code == 200, response.text
            run: dict[str, Any] = response.json()
            return run

        async with trainee:
            await trainee.wait_for_notice(lambda n: n.scenario == SCENARIO)
            clear = await settled_view(trainee, HOME)
            seq = trainee.send_pose(0.0, IN_THE_LEAK)
            await trainee.wait_for_frame(min_seq=seq, timeout_s=20)
            await trainee.wait_for_notice(lambda n: (n.caption or "").startswith("You are"))
            await fog_settles_at(snapshot, 0.5)  # the gas thickens over 2 s
            in_gas = await settled_view(trainee, HOME)
            assert float(np.abs(in_gas - clear).mean()) > 6.0
            assert float(in_gas.std()) < 0.75 * float(clear.std())

            fired = await app.client.post(
                f"{base}/scenario/commands",
                json={"command": "event", "event": "gas-spreads"},
                headers=INSTRUCTOR,
            )
            assert fired.status_code == 200, fired.text
            await trainee.wait_for_notice(lambda n: (n.caption or "").startswith("The haze"))
            await fog_settles_at(snapshot, 0.45)  # from 0.5 down to 0.45 over 3 s: thinner
            thinner = await settled_view(trainee, HOME)
            assert float(np.abs(thinner - in_gas).mean()) > 1.0

            ended = await app.client.post(
                f"{base}/scenario/commands",
                json={"command": "end", "outcome": "success", "message": "Out in time."},
                headers=INSTRUCTOR,
            )
            assert ended.status_code == 200, ended.text
            await trainee.wait_for_notice(lambda n: n.outcome == "success")
        await eventually(lambda: session.state is S.ENDED, 30, "ended")
        aar = await app.client.get(f"{base}/aar", headers=INSTRUCTOR)

    assert aar.status_code == 200
    entries = [json.loads(line) for line in aar.text.splitlines()]
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    story = [
        (e["kind"], e.get("trigger") or e.get("action") or e.get("outcome"))
        for e in entries
        if e["kind"] in {"scenario_started", "trigger_fired", "instructor", "scenario_ended"}
    ]
    assert story == [
        ("scenario_started", None),
        ("trigger_fired", "too-close-to-leak"),
        ("instructor", "event"),
        ("trigger_fired", "haze-thickens"),
        ("instructor", "end"),
        ("scenario_ended", "success"),
    ]
    walked = [e["p"] for e in entries if e["kind"] == "pose"]
    assert any(math.dist((p[0], p[2]), (2.5, 7.0)) < 3.0 for p in walked)  # into the zone


async def test_a_scenario_ended_by_its_own_trigger_ends_the_session_after_a_grace(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """The trainee reaches the north exit: `out-north` ends the scenario with success;
    the orchestrator sees it in the streamer's status and ends the session once the
    grace (the time to read the outcome) is over, with the log's last entry saved."""
    library = tmp_path / "library"
    shutil.copytree(ROOT / "scenarios", library)
    async with make_app(scenario_dir=library, scenario_end_grace_s=1.0) as app:
        spec = {"scenario": SCENARIO, "width": 320, "height": 176, "fps": 30}
        created = await app.client.post("/v1/sessions", json=spec, headers=TRAINEE)
        assert created.status_code == 201, created.text
        session = app.service.get_any(created.json()["id"])
        await eventually(lambda: session.state is not S.STARTING, what="started")
        assert session.streamer is not None
        trainee = ViewerClient(f"{session.streamer.base_url}/whep", created.json()["token"])
        trainee.auto_move = False
        async with trainee:
            await trainee.wait_for_notice(lambda n: n.scenario == SCENARIO)
            # 13 m "ahead" of the start (0, 2) facing +z... is the north exit at z = -11.
            seq = trainee.send_pose(0.0, (0.0, 1.6, 13.0))
            await trainee.wait_for_frame(min_seq=seq, timeout_s=20)
            done = await trainee.wait_for_notice(lambda n: n.outcome is not None)
            assert (done.outcome, done.message) == (
                "success",
                "You left by the north exit, away from the leak.",
            )
            await eventually(lambda: session.state is S.ENDED, 30, "ended after the grace")
        assert session.lifecycle.reason == EndReason.SCENARIO_ENDED
        aar = await app.client.get(f"/v1/sessions/{session.id}/aar", headers=INSTRUCTOR)
    last = json.loads(aar.text.splitlines()[-1])
    assert (last["kind"], last["outcome"], last["by"]) == (
        "scenario_ended",
        "success",
        "trigger:out-north",
    )
