"""`GET /v1/events` over real HTTP: refused without a token or with an id it never
sent, state changes pushed as they happen, each caller seeing only what the access
rules let them see, resuming with `Last-Event-ID`, `reset` for an id too old, the
per-caller cap, heartbeats, and streams ending when the server stops."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.identity import Role
from tests.orchestrator.conftest import UpProcess, api_token, settings_for, streamer_pids
from tests.orchestrator.feed.served import Served, served, stream
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(90)

Serve = Callable[..., AbstractAsyncContextManager[Served]]


@pytest.fixture
def serve(tmp_path: Path) -> Serve:
    def make(**overrides: Any) -> AbstractAsyncContextManager[Served]:
        return served(settings_for(tmp_path / "state", max_sessions=1, **overrides))

    return make


@pytest.fixture
async def api(serve: Serve) -> AsyncIterator[tuple[Served, httpx.AsyncClient]]:
    async with serve() as app, httpx.AsyncClient(base_url=app.base_url) as client:
        yield app, client


def bearer(subject: str, role: Role = Role.TRAINEE) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(subject, role)}"}


async def create(client: httpx.AsyncClient, subject: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/sessions?wait=true", json={"client": "browser"}, headers=bearer(subject)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_feed_refuses_a_caller_without_a_token(
    api: tuple[Served, httpx.AsyncClient],
) -> None:
    _, client = api
    response = await client.get("/v1/events")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "Authorization: Bearer" in response.json()["detail"]


async def test_a_last_event_id_the_feed_never_sent_is_a_400_problem(
    api: tuple[Served, httpx.AsyncClient],
) -> None:
    _, client = api
    headers = {**bearer("olga", Role.OPERATOR), "Last-Event-ID": "<script>"}
    response = await client.get("/v1/events", headers=headers)
    assert response.status_code == 400
    assert response.json()["type"].endswith("bad-event-id")
    assert "Last-Event-ID" in response.json()["detail"]


async def test_a_state_change_reaches_an_operators_open_stream_as_the_api_shows_it(
    api: tuple[Served, httpx.AsyncClient],
) -> None:
    app, client = api
    async with stream(app.base_url, api_token("olga", Role.OPERATOR)) as events:
        ready = await events.next()
        assert (ready.kind, events.retry_ms) == ("ready", 2000)
        created = await create(client, "alice")
        first = await events.until("session", id=created["id"])
        assert (first.data["owner"], first.data["state"]) == ("alice", "starting")
        assert first.data["token"] is None  # tokens only through GET, for the owner
        assert first.data["whep_url"] == f"{app.base_url}/v1/sessions/{created['id']}/whep"
        pool = await events.until("pool", holding=1)
        assert pool.data["free_capacity"] == 0
        ended = await client.delete(f"/v1/sessions/{created['id']}", headers=bearer("alice"))
        assert ended.status_code == 202
        await events.until("session", id=created["id"], state="ending")
        gone = await events.until("session", id=created["id"], state="ended")
        shown = (
            await client.get(f"/v1/sessions/{created['id']}", headers=bearer("olga", Role.OPERATOR))
        ).json()
        assert {k: v for k, v in gone.data.items() if k not in ("token", "token_expires_at")} == {
            k: v for k, v in shown.items() if k not in ("token", "token_expires_at")
        }


async def test_a_trainee_hears_of_their_own_sessions_and_no_one_elses(
    api: tuple[Served, httpx.AsyncClient],
) -> None:
    app, client = api
    async with stream(app.base_url, api_token("bob")) as bobs:
        await bobs.next()
        alices = await create(client, "alice")
        own = await create(client, "bob")  # queued behind alice's
        event = await bobs.until("session")
        assert (event.data["id"], event.data["queue_position"]) == (own["id"], 1)
        await client.delete(f"/v1/sessions/{alices['id']}", headers=bearer("alice"))
        moved = await bobs.until("session", id=own["id"], state="starting")
        assert moved.data["owner"] == "bob"
        assert "pool" not in bobs.kinds  # `/v1/pool` is for operators


async def test_a_stream_resumes_after_the_last_event_it_received(
    api: tuple[Served, httpx.AsyncClient],
) -> None:
    app, client = api
    token = api_token("alice")
    async with stream(app.base_url, token) as events:
        await events.next()
        created = await create(client, "alice")
        seen = await events.until("session", id=created["id"], state="starting")
    await client.delete(f"/v1/sessions/{created['id']}", headers=bearer("alice"))  # while away
    async with stream(app.base_url, token, last_event_id=seen.id) as events:
        assert (await events.next()).kind == "ready"
        missed = [await events.next(), await events.next()]
    assert [(e.kind, e.data["state"]) for e in missed] == [
        ("session", "ending"),
        ("session", "ended"),
    ]
    seqs = [int(str(e.id).split("-")[1]) for e in (seen, *missed)]
    assert seqs == sorted(set(seqs))  # after the one it had, in order, none twice


async def test_an_id_that_left_the_ring_gets_a_reset(serve: Serve) -> None:
    async with serve(feed_ring_size=1) as app, httpx.AsyncClient(base_url=app.base_url) as client:
        token = api_token("olga", Role.OPERATOR)
        async with stream(app.base_url, token) as events:
            await events.next()
            created = await create(client, "alice")
            oldest = await events.until("session", id=created["id"])
            await client.delete(f"/v1/sessions/{created['id']}", headers=bearer("alice"))
            await events.until("session", id=created["id"], state="ended")
        async with stream(app.base_url, token, last_event_id=oldest.id) as events:
            assert (await events.next()).kind == "ready"
            reset = await events.next()
            assert reset.kind == "reset"
            assert "snapshot" in reset.data["reason"]


async def test_one_caller_may_hold_only_so_many_streams(serve: Serve) -> None:
    async with serve(feed_streams_per_principal=1, feed_heartbeat_s=0.2) as app:
        token = api_token("olga", Role.OPERATOR)
        async with httpx.AsyncClient(base_url=app.base_url) as client:
            async with stream(app.base_url, token) as events:
                await events.next()
                refused = await client.get("/v1/events", headers=bearer("olga", Role.OPERATOR))
                assert refused.status_code == 429
                assert int(refused.headers["Retry-After"]) > 0
                assert "open event streams" in refused.json()["detail"]
            feed = app.app.state.feed
            await eventually(lambda: feed.open_streams == 0, 10, "the closed stream let go")
            async with stream(app.base_url, token) as events:
                assert (await events.next()).kind == "ready"


async def test_an_idle_stream_gets_heartbeats(serve: Serve) -> None:
    async with serve(feed_heartbeat_s=0.1) as app, stream(app.base_url, api_token("a")) as events:
        await events.next()
        with pytest.raises(TimeoutError):
            await events.next(timeout_s=0.5)
        assert "heartbeat" in events.comments


async def test_a_stream_ends_when_its_token_expires_and_cannot_be_reopened_with_it(
    api: tuple[Served, httpx.AsyncClient],
) -> None:
    app, client = api
    short = api_token("alice", ttl_s=2)
    async with stream(app.base_url, short) as events:
        await events.next()
        with pytest.raises(EOFError):  # at the expiry, not at the next heartbeat (15 s)
            await events.until("never sent", timeout_s=10)
    again = await client.get("/v1/events", headers={"Authorization": f"Bearer {short}"})
    assert again.status_code == 401
    assert "expired" in again.json()["detail"]


async def test_stopping_the_server_ends_open_streams_and_leaves_nothing_running(
    serve: Serve, tmp_path: Path
) -> None:
    before = {t for t in asyncio.all_tasks()}
    async with serve() as app, stream(app.base_url, api_token("olga", Role.OPERATOR)) as events:
        await events.next()
        async with httpx.AsyncClient(base_url=app.base_url) as client:
            await create(client, "alice")
        app.server.should_exit = True
        with pytest.raises(EOFError):
            await events.until("never sent", timeout_s=20)
    assert app.app.state.feed.open_streams == 0
    assert {t for t in asyncio.all_tasks() if not t.done()} - before <= {asyncio.current_task()}
    assert streamer_pids(tmp_path / "state") == []


async def test_ixstream_up_stops_promptly_on_sigterm_with_a_stream_open(
    orchestrator_up: Callable[..., UpProcess],
) -> None:
    """uvicorn waits for open responses before shutting down: without the feed closing
    its streams first, SIGTERM would hang on every open page."""
    up = orchestrator_up(pool=0)
    async with stream(up.base_url, api_token("olga", Role.OPERATOR)) as events:
        await events.next()
        up.proc.send_signal(signal.SIGTERM)
        with pytest.raises(EOFError):
            await events.until("never sent", timeout_s=20)
    # uvicorn re-raises the signal it caught once shut down: -SIGTERM is a clean stop.
    assert await asyncio.to_thread(up.proc.wait, 20) in (0, -signal.SIGTERM)
