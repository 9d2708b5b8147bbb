"""The instructor endpoints over the real app, without a scenario running: a trainee's
command is refused (403), audited as forbidden and never reaches the streamer; a
command body is validated (a spoofed `by` or an unknown command is a 422); the
after-action log downloads as NDJSON attachment in `seq` order from disk, also for a
session the orchestrator has forgotten, and is a clear 404 where there is none;
recording is off unless asked for (the session says `record: false`, nothing is
recorded, and the recording is a 404)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from orchestrator.identity import Role
from orchestrator.sessions.states import SessionState
from tests.orchestrator.conftest import Harness, auth
from tests.waiting import eventually

MakeApp = Callable[..., AbstractAsyncContextManager[Harness]]
INSTRUCTOR = auth("ivy", Role.INSTRUCTOR)


def audit_records(app: Harness, action: str) -> list[dict[str, Any]]:
    lines = app.settings.audit_path.read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["action"] == action]


async def test_a_trainee_may_not_command_and_the_refusal_is_audited(make_app: MakeApp) -> None:
    async with make_app() as app:
        created = await app.client.post("/v1/sessions", json={}, headers=auth("alice"))
        session_id = created.json()["id"]
        refused = await app.client.post(
            f"/v1/sessions/{session_id}/scenario/commands",
            json={"command": "pause"},
            headers=auth("alice"),
        )
        records = audit_records(app, "scenario.command")
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "only instructors and operators" in refused.json()["detail"]
    assert [(r["actor"], r["session"], r["command"], r["result"]) for r in records] == [
        ("alice", session_id, "pause", "forbidden")
    ]


async def test_a_command_body_is_validated_and_cannot_name_who_sent_it(
    make_app: MakeApp,
) -> None:
    async with make_app() as app:
        url = "/v1/sessions/s-any/scenario/commands"
        spoofed = await app.client.post(
            url, json={"command": "pause", "by": "someone-else"}, headers=INSTRUCTOR
        )
        unknown = await app.client.post(url, json={"command": "rewind"}, headers=INSTRUCTOR)
        no_event = await app.client.post(url, json={"command": "event"}, headers=INSTRUCTOR)
        no_outcome = await app.client.post(url, json={"command": "end"}, headers=INSTRUCTOR)
        missing = await app.client.post(url, json={"command": "pause"}, headers=INSTRUCTOR)
    assert [r.status_code for r in (spoofed, unknown, no_event, no_outcome)] == [422] * 4
    assert "by" in spoofed.json()["detail"]
    assert missing.status_code == 404


async def test_the_after_action_log_downloads_as_an_ndjson_attachment_in_seq_order(
    make_app: MakeApp,
) -> None:
    async with make_app() as app:
        # A session that ended and was forgotten: only its file is left.
        store = app.service.link.aar
        store.append("s-gone", [{"seq": 0, "kind": "scenario_started"}])
        store.append("s-gone", [{"seq": 1, "kind": "pose"}, {"seq": 2, "kind": "paused"}])
        response = await app.client.get("/v1/sessions/s-gone/aar", headers=INSTRUCTOR)
        trainee = await app.client.get("/v1/sessions/s-gone/aar", headers=auth("alice"))
        none = await app.client.get("/v1/sessions/s-none/aar", headers=INSTRUCTOR)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Content-Disposition"] == 'attachment; filename="s-gone-aar.jsonl"'
    assert [json.loads(line)["seq"] for line in response.text.splitlines()] == [0, 1, 2]
    assert trainee.status_code == 403
    assert none.status_code == 404
    assert none.json()["detail"].startswith("session s-none has no after-action log")


async def test_recording_is_off_unless_asked_for(make_app: MakeApp) -> None:
    async with make_app() as app:
        created = await app.client.post("/v1/sessions", json={}, headers=INSTRUCTOR)
        assert created.status_code == 201, created.text
        body = created.json()
        session = app.service.get_any(body["id"])
        await eventually(lambda: session.state is SessionState.READY, what="ready")
        await app.client.delete(f"/v1/sessions/{body['id']}", headers=INSTRUCTOR)
        await eventually(lambda: session.state is SessionState.ENDED, 20, "ended")
        recording = await app.client.get(f"/v1/sessions/{body['id']}/recording", headers=INSTRUCTOR)
        aar = await app.client.get(f"/v1/sessions/{body['id']}/aar", headers=INSTRUCTOR)
        recordings_dir = app.settings.recordings_path
    assert body["record"] is False
    assert recording.status_code == 404
    assert "has no recording" in recording.json()["detail"]
    assert aar.status_code == 404  # no scenario document ran: no log
    assert not recordings_dir.exists() or not any(recordings_dir.iterdir())
