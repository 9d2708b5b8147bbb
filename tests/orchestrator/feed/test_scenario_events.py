"""Scenario events on the feed, over real HTTP with a real streamer running the gas-leak
document: the trainee starting the scene arrives as `scenario-log` (pulled from the
streamer's log), an instructor's pause as `scenario` with the new snapshot; another
trainee's stream carries neither."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from orchestrator.identity import Role
from tests.orchestrator.conftest import ROOT, api_token, settings_for
from tests.orchestrator.feed.served import served, stream

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
SCENARIO = "gas-leak-warehouse"


def bearer(subject: str, role: Role = Role.TRAINEE) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(subject, role)}"}


async def watch(whep_url: str, token: str) -> None:
    """The headless client joins as the trainee for a moment: the scenario starts."""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ixstream", "client", whep_url, "--token", token,
         "--seconds", "1", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["frames"] > 0


async def test_scenario_steps_reach_the_feed_for_those_who_may_see_them(tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(ROOT / "scenarios", library)
    settings = settings_for(
        tmp_path / "state", scenario_dir=library, scenes_dir=ROOT / "streamer" / "assets"
    )
    async with (
        served(settings) as app,
        httpx.AsyncClient(base_url=app.base_url, timeout=60) as client,
        stream(app.base_url, api_token("ivy", Role.INSTRUCTOR)) as console,
        stream(app.base_url, api_token("bob")) as other,
    ):
        await console.next()
        await other.next()
        created = await client.post(
            "/v1/sessions?wait=true", json={"scenario": SCENARIO}, headers=bearer("alice")
        )
        session_id = created.json()["id"]
        await console.until("session", id=session_id, state="ready", timeout_s=60)
        mine = (await client.get(f"/v1/sessions/{session_id}", headers=bearer("alice"))).json()
        await watch(mine["whep_url"], mine["token"])

        logged = await console.until("scenario-log", session_id=session_id)
        assert "scenario_started" in {entry["kind"] for entry in logged.data["entries"]}
        paused = await client.post(
            f"/v1/sessions/{session_id}/scenario/commands",
            json={"command": "pause"},
            headers=bearer("ivy", Role.INSTRUCTOR),
        )
        assert paused.status_code == 200, paused.text
        pushed = await console.until("scenario", session_id=session_id)
        assert (pushed.data["paused"], pushed.data["scenario"]) == (True, SCENARIO)
        with pytest.raises(TimeoutError):
            await other.until("scenario", timeout_s=0.5)
        assert not {"scenario", "scenario-log", "session"} & set(other.kinds)
