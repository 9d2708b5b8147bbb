"""Learning records end to end: the real app (in-process) with a real streamer process
and the headless client as the trainee, delivering to an LRS endpoint running in the
test over real HTTP. A scenario session that a trainee joins and an instructor steers
(pause, resume, an event, the end with an outcome) lands in the LRS as launched …
terminated, every statement valid, by the trainee's account, under the session's
registration, each exactly once. With no LRS configured nothing is kept or sent."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from orchestrator.identity import Role
from orchestrator.sessions.states import SessionState
from tests.orchestrator.conftest import ROOT, Harness, auth
from tests.orchestrator.e2e.test_scenario_sessions import watch
from tests.orchestrator.learning.lrs import InTestLRS, free_port, serving
from tests.waiting import eventually

MakeApp = Callable[..., AbstractAsyncContextManager[Harness]]
TRAINEE = auth("alice")
INSTRUCTOR = auth("ivy", Role.INSTRUCTOR)
SCENARIO = "gas-leak-warehouse"
HOME_PAGE = "https://idp.example.org"


@pytest.mark.e2e
async def test_a_steered_scenario_session_lands_in_the_lrs_from_launch_to_termination(
    make_app: MakeApp, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    shutil.copytree(ROOT / "scenarios", library)
    lrs = InTestLRS("Bearer lrs-token-1")
    async with serving(lrs, free_port()) as endpoint:
        learning = {
            "lrs_endpoint": endpoint,
            "lrs_token": "lrs-token-1",
            "activity_base": "https://lms.example.org/ixstream/",
            "actor_home_page": HOME_PAGE,
        }
        async with make_app(
            scenario_dir=library, scenes_dir=ROOT / "streamer" / "assets", learning=learning
        ) as app:
            created = await app.client.post(
                "/v1/sessions", json={"scenario": SCENARIO}, headers=TRAINEE
            )
            assert created.status_code == 201, created.text
            session = app.service.get_any(created.json()["id"])
            base = f"/v1/sessions/{session.id}"
            await eventually(lambda: session.state is SessionState.READY, what="ready")
            token = (await app.client.get(base, headers=TRAINEE)).json()["token"]
            await watch(session, token)
            snapshot = (await app.client.get(f"{base}/scenario", headers=INSTRUCTOR)).json()
            event = snapshot["instructor_events"][0]["id"]
            for command in (
                {"command": "pause"},
                {"command": "resume"},
                {"command": "event", "event": event},
                {"command": "end", "outcome": "success", "message": "closed the valve"},
            ):
                done = await app.client.post(
                    f"{base}/scenario/commands", json=command, headers=INSTRUCTOR
                )
                assert done.status_code == 200, done.text
            await eventually(lambda: session.state is SessionState.ENDED, 30, "ended")
            await eventually(
                lambda: lrs.verbs()[-1:] == ["terminated"], 30, lambda: f"terminated: {lrs.verbs()}"
            )
            aar = (await app.client.get(f"{base}/aar", headers=INSTRUCTOR)).text

    entries = [json.loads(line) for line in aar.splitlines()]
    triggers = sum(1 for e in entries if e["kind"] == "trigger_fired")
    verbs = lrs.verbs()
    assert lrs.refusals == []  # every statement passed ralph's validator
    assert verbs[:2] == ["launched", "initialized"]
    assert verbs[-2:] == ["passed", "terminated"]
    assert verbs.count("experienced") == triggers + 1  # every trigger, and the event
    assert {"suspended", "resumed"} <= set(verbs)
    statements = list(lrs.statements.values())
    assert {s["actor"]["account"]["name"] for s in statements} == {"alice"}
    assert {s["actor"]["account"]["homePage"] for s in statements} == {HOME_PAGE}
    assert len({s["context"]["registration"] for s in statements}) == 1
    passed = statements[verbs.index("passed")]
    assert passed["result"]["success"] is True
    assert passed["context"]["instructor"]["account"]["name"] == "ivy"
    assert "closed the valve" not in json.dumps(statements)
    assert statements[-1]["result"]["duration"].startswith("PT")
    assert sum(len(a) for a in lrs.attempts) == len(statements)  # each sent once


async def test_without_an_lrs_nothing_is_kept_or_sent(make_app: MakeApp, tmp_path: Path) -> None:
    async with make_app() as app:
        assert not app.settings.learning.enabled
        metrics = (await app.client.get("/metrics")).text
    assert not (tmp_path / "state" / "learning").exists()
    assert 'ixstream_orchestrator_lrs_statements_total{outcome="queued"} 0.0' in metrics
