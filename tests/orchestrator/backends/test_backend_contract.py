"""The SessionBackend contract, one suite for every backend.

Parametrised over backend factories: today the local process backend; the
Kubernetes backend (against the API simulator) joins by adding one entry to
`BACKENDS`. Every streamer here is a real `ixstream stream` (test-pattern, small
frames); nothing stands in for one.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from orchestrator.backends.base import (
    Observation,
    SessionBackend,
    Streamer,
    StreamerPhase,
    StreamerProfile,
)
from orchestrator.backends.local import LocalBackendConfig, LocalProcessBackend
from orchestrator.errors import StreamerStartError
from orchestrator.sessions.states import FailureReason
from orchestrator.tokens import SessionRole, mint_session_token
from tests.orchestrator.conftest import START_TIMEOUT_S, streamer_pids
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "h264", False, 500)
OTHER_PROFILE = StreamerProfile("test-pattern", None, 320, 240, 15, "vp8", False, 500)


def local_backend(state_dir: Path) -> SessionBackend:
    config = LocalBackendConfig(state_dir=state_dir, stop_grace_s=3.0, ice_hosts=("127.0.0.1",))
    return LocalProcessBackend(config)


BACKENDS: dict[str, Callable[[Path], SessionBackend]] = {"local": local_backend}


@pytest.fixture(params=sorted(BACKENDS))
def backend_factory(request: pytest.FixtureRequest) -> Callable[[Path], SessionBackend]:
    factory: Callable[[Path], SessionBackend] = BACKENDS[request.param]
    return factory


@pytest.fixture
async def backend(
    backend_factory: Callable[[Path], SessionBackend], tmp_path: Path
) -> AsyncIterator[SessionBackend]:
    the_backend = backend_factory(tmp_path / "state")
    await the_backend.open()
    yield the_backend
    await asyncio.gather(*(the_backend.delete(s.id) for s in await the_backend.list()))
    await the_backend.close()
    assert streamer_pids(tmp_path / "state") == []


async def start_ready(
    backend: SessionBackend, count: int, session_id: str | None = None
) -> list[Streamer]:
    spawned = [await backend.spawn(PROFILE, session_id) for _ in range(count)]
    return list(await asyncio.gather(*(backend.wait_ready(s.id, START_TIMEOUT_S) for s in spawned)))


def whep_post(base_url: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/whep", content=b"not sdp",
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        timeout=10, trust_env=False,
    )  # fmt: skip


async def test_a_spawned_streamer_becomes_ready_reports_status_and_is_gone_after_delete(
    backend: SessionBackend, tmp_path: Path
) -> None:
    spawned = await backend.spawn(PROFILE, "s-cold")
    assert (spawned.phase, spawned.session_id, spawned.base_url) == (
        StreamerPhase.STARTING,
        "s-cold",
        None,
    )
    assert len(spawned.key) >= 32
    ready = await backend.wait_ready(spawned.id, START_TIMEOUT_S)
    assert ready.phase is StreamerPhase.READY
    assert ready.base_url is not None
    observation = await backend.observe(ready.id)
    assert observation.alive
    assert observation.status is not None
    assert observation.status.viewers == 0
    assert [s.id for s in await backend.list()] == [ready.id]

    await backend.delete(ready.id)
    await backend.delete(ready.id)  # idempotent
    assert await backend.list() == []
    assert not (await backend.observe(ready.id)).alive
    assert streamer_pids(tmp_path / "state") == []


async def test_concurrent_claims_never_hand_out_the_same_streamer(
    backend: SessionBackend,
) -> None:
    warm = await start_ready(backend, 2)
    assert await backend.claim(OTHER_PROFILE, "s-vp8") is None  # profiles must match
    claims = await asyncio.gather(*(backend.claim(PROFILE, f"s-{i}") for i in range(6)))
    won = [c for c in claims if c is not None]
    assert len(won) == 2
    assert {c.id for c in won} == {w.id for w in warm}
    assert len({c.session_id for c in won}) == 2
    assert await backend.claim(PROFILE, "s-late") is None  # claimed streamers stay claimed


async def test_a_token_signed_for_one_streamer_does_not_open_another(
    backend: SessionBackend,
) -> None:
    await start_ready(backend, 2)
    a = await backend.claim(PROFILE, "s-a")
    b = await backend.claim(PROFILE, "s-b")
    assert a is not None
    assert b is not None
    assert a.base_url is not None
    assert b.base_url is not None

    def token(key: str, sid: str) -> str:
        return mint_session_token(
            key, session_id=sid, role=SessionRole.TRAINEE, subject="t", now=time.time(), ttl_s=60
        ).token

    # B refuses A's token (signed with A's key) before it even reads the offer...
    assert (await asyncio.to_thread(whep_post, b.base_url, token(a.key, "s-a"))).status_code == 403
    assert (await asyncio.to_thread(whep_post, b.base_url, token(a.key, "s-b"))).status_code == 403
    # ...and accepts its own, reaching SDP parsing (400: "not sdp" is not an offer).
    assert (await asyncio.to_thread(whep_post, b.base_url, token(b.key, "s-b"))).status_code == 400


async def test_a_new_backend_finds_what_a_previous_one_left(
    backend_factory: Callable[[Path], SessionBackend], tmp_path: Path
) -> None:
    first = backend_factory(tmp_path / "state")
    await first.open()
    (warm,) = await start_ready(first, 1)
    (bound,) = await start_ready(first, 1, session_id="s-kept")
    await first.close()  # an orchestrator restart: streamers keep running

    second = backend_factory(tmp_path / "state")
    await second.open()
    try:
        found = {s.id: s for s in await second.list()}
        assert set(found) == {warm.id, bound.id}
        assert found[bound.id].session_id == "s-kept"
        assert found[bound.id].key == bound.key  # tokens can still be minted for it
        assert found[warm.id].session_id is None
        for streamer_id in found:
            assert (await second.observe(streamer_id)).alive
        assert await second.claim(PROFILE, "s-new") is not None  # the warm one is claimable
    finally:
        await asyncio.gather(*(second.delete(s) for s in list(found)))
        await second.close()
    assert streamer_pids(tmp_path / "state") == []


async def test_a_streamer_killed_with_sigkill_is_observed_dead_and_cleaned_up(
    backend: SessionBackend, tmp_path: Path
) -> None:
    (streamer,) = await start_ready(backend, 1, session_id="s-doomed")
    (pid,) = streamer_pids(tmp_path / "state")
    os.kill(pid, signal.SIGKILL)
    observations: list[Observation] = []

    async def observed_dead() -> bool:
        observations.append(await backend.observe(streamer.id))
        return not observations[-1].alive

    await eventually(observed_dead, 5, lambda: f"observed dead: {observations[-1]}")
    observation = observations[-1]
    assert observation.detail is not None
    assert "SIGKILL" in observation.detail
    await backend.delete(streamer.id)
    assert await backend.list() == []


async def test_a_streamer_that_cannot_start_fails_with_the_reason_from_its_log(
    backend: SessionBackend,
) -> None:
    # The streamer itself refuses 242 lines (I420 needs a multiple of 4) and exits.
    broken = StreamerProfile("test-pattern", None, 320, 242, 15, "h264", False, 500)
    spawned = await backend.spawn(broken, "s-broken")
    with pytest.raises(StreamerStartError) as failure:
        await backend.wait_ready(spawned.id, START_TIMEOUT_S)
    assert failure.value.reason == FailureReason.STREAMER_EXITED
    assert "exited with code" in failure.value.detail
    assert "multiple of" in failure.value.detail  # the streamer's own words, from its log
    assert "jwt_secret': '<redacted>" in failure.value.detail or "jwt_secret" not in (
        failure.value.detail
    )
    await backend.delete(spawned.id)


async def test_a_local_streamer_records_its_metrics_port_and_its_status_needs_a_control_token(
    tmp_path: Path,
) -> None:
    """Local backend only: the streamer's metrics port (chosen by the kernel, written to
    its own port file) is in the record, serves `/metrics`, and `/v1/status` answers the
    backend's control token but no one without it."""
    backend = local_backend(tmp_path / "state")
    await backend.open()
    try:
        (ready,) = await start_ready(backend, 1, "s-metrics")
        record = json.loads(next((tmp_path / "state" / "streamers").glob("*.json")).read_text())
        metrics = f"http://127.0.0.1:{record['metrics_port']}/metrics"
        assert ready.base_url is not None
        async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
            scraped = await client.get(metrics)
            assert scraped.status_code == 200
            assert "ixstream_streamer_frames_sent_total" in scraped.text
            assert (await client.get(f"{ready.base_url}/metrics")).status_code == 404
            assert (await client.get(f"{ready.base_url}/v1/status")).status_code == 401
        observation = await backend.observe(ready.id)
        assert observation.status is not None, observation.detail
    finally:
        await asyncio.gather(*(backend.delete(s.id) for s in await backend.list()))
        await backend.close()
