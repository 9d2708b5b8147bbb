"""Delivery to an LRS that runs in the test, over real HTTP: every statement arrives
with the version header and the credentials and passes the LRS's validator; while the
LRS is down statements wait on disk and, once it is up, arrive exactly once, also
across a restart; `Retry-After` is honoured (on a manual clock); a statement the LRS
refuses for good is set aside and counted, and the next one goes on; 409 means it is
already there; refused credentials keep everything queued."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from orchestrator.clock import ManualClock, SystemClock
from orchestrator.learning import records as records_module
from orchestrator.learning import statements as st
from orchestrator.learning.outbox import Outbox
from orchestrator.learning.records import LearningRecords
from orchestrator.learning.sender import StatementSender
from orchestrator.learning.settings import LearningSettings
from orchestrator.metrics import OrchestratorMetrics
from tests.orchestrator.learning.lrs import InTestLRS, Scripted, free_port, serving
from tests.waiting import eventually

WORDS = st.Vocabulary("https://lms.example.org/ixstream/", "https://idp.example.org")
FACTS = st.SessionFacts("s-00000000000000aa", "alice", "gas-leak-warehouse")
BASIC = "Basic " + base64.b64encode(b"ixstream:s3cret").decode()


def settings(endpoint: str, tmp_path: Path, **more: Any) -> LearningSettings:
    values: dict[str, Any] = {
        "lrs_endpoint": endpoint,
        "lrs_username": "ixstream",
        "lrs_password": "s3cret",
        "activity_base": WORDS.activity_base,
        "actor_home_page": WORDS.home_page,
        "outbox_dir": tmp_path / "outbox",
        "retry_initial_s": 0.05,
        "retry_max_s": 0.2,
    }
    return LearningSettings.model_validate({**values, **more})


def session_statements(n: int = 5) -> list[dict[str, Any]]:
    """launched, then `n - 1` pauses and resumes: distinct facts in order."""
    made = [st.launched(WORDS, FACTS, 1_765_000_000.0)]
    for seq in range(1, n):
        kind = "paused" if seq % 2 else "resumed"
        entry = {"seq": seq, "at": 1_765_000_000.0 + seq, "kind": kind, "by": "ivy"}
        statement = st.from_log_entry(WORDS, FACTS, entry)
        assert statement is not None
        made.append(statement)
    return made


def counted(metrics: OrchestratorMetrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "ixstream_orchestrator_lrs_statements_total", {"outcome": outcome}
    )
    return value or 0.0


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        yield client


def sender_for(
    config: LearningSettings, http: httpx.AsyncClient, clock: Any = None
) -> tuple[StatementSender, Outbox, OrchestratorMetrics]:
    assert config.outbox_dir is not None
    outbox = Outbox(config.outbox_dir)
    outbox.open(1_765_000_000.0, 30)
    metrics = OrchestratorMetrics(CollectorRegistry())
    sender = StatementSender(
        settings=config, outbox=outbox, http=http, clock=clock or SystemClock(),
        metrics=metrics, rng=random.Random(1),
    )  # fmt: skip
    return sender, outbox, metrics


async def test_statements_arrive_with_the_version_header_and_basic_auth_and_validate(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    lrs = InTestLRS(BASIC)
    async with serving(lrs, free_port()) as endpoint:
        sender, outbox, metrics = sender_for(settings(endpoint, tmp_path), http)
        sent = session_statements()
        for statement in sent:
            outbox.add(statement)
        await sender.step()
    assert lrs.refusals == []
    assert list(lrs.statements) == [s["id"] for s in sent]  # all, in order
    assert lrs.statements[sent[0]["id"]] == sent[0]
    assert len(outbox) == 0
    assert counted(metrics, "delivered") == len(sent)


async def test_a_bearer_token_is_sent_as_such(tmp_path: Path, http: httpx.AsyncClient) -> None:
    lrs = InTestLRS("Bearer tok-123")
    async with serving(lrs, free_port()) as endpoint:
        config = settings(endpoint, tmp_path, lrs_username=None, lrs_password=None,
                          lrs_token="tok-123")  # fmt: skip
        sender, outbox, _ = sender_for(config, http)
        outbox.add(session_statements(1)[0])
        await sender.step()
    assert (lrs.refusals, len(lrs.statements)) == ([], 1)


async def test_while_the_lrs_is_down_statements_wait_on_disk_then_arrive_exactly_once(
    tmp_path: Path,
) -> None:
    port = free_port()
    lrs = InTestLRS(BASIC)
    config = settings(f"http://127.0.0.1:{port}/xapi", tmp_path)
    records = LearningRecords(
        config, tmp_path, SystemClock(), OrchestratorMetrics(CollectorRegistry())
    )
    await records.start()
    assert records.outbox is not None
    assert records.sender is not None
    sent = session_statements(6)
    try:
        for statement in sent[:3]:
            records.outbox.add(statement)
            records.sender.wake()
        await eventually(lambda: records.sender is not None and records.sender.not_before > 0,
                         what="a failed attempt")  # fmt: skip
        assert len(records.outbox) == 3  # nothing lost while nobody listens
        async with serving(lrs, port):
            for statement in sent[3:]:
                records.outbox.add(statement)
                records.sender.wake()
            await eventually(lambda: len(lrs.statements) == len(sent), 20, "all delivered")
    finally:
        await records.close()
    assert list(lrs.statements) == [s["id"] for s in sent]
    assert sum(len(a) for a in lrs.attempts) == len(sent)  # each sent once
    assert lrs.resent == 0


async def test_a_restart_delivers_what_the_previous_run_left_and_no_more(tmp_path: Path) -> None:
    lrs = InTestLRS(BASIC)
    sent = session_statements(4)
    async with serving(lrs, free_port()) as endpoint:
        config = settings(endpoint, tmp_path)
        left = Outbox(tmp_path / "outbox")
        left.open(1_765_000_000.0, 30)
        for statement in sent:
            left.add(statement)  # queued by a run that stopped before delivering
        records = LearningRecords(config, tmp_path, SystemClock(),
                                  OrchestratorMetrics(CollectorRegistry()))  # fmt: skip
        await records.start()
        try:
            await eventually(lambda: len(lrs.statements) == len(sent), 20, "the backlog delivered")
            assert records.outbox is not None
            # The same facts seen again after the restart are recognised, not queued.
            assert not any(records.outbox.add(statement) for statement in sent[:2])
        finally:
            await records.close()
    assert sum(len(a) for a in lrs.attempts) == len(sent)


async def test_a_stop_while_an_answer_is_on_its_way_waits_for_it_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    lrs = InTestLRS(BASIC)
    lrs.answer_held = asyncio.Event()
    sent = session_statements(1)
    async with serving(lrs, free_port()) as endpoint:
        records = LearningRecords(settings(endpoint, tmp_path), tmp_path, SystemClock(),
                                  OrchestratorMetrics(CollectorRegistry()))  # fmt: skip
        await records.start()
        assert records.outbox is not None
        assert records.sender is not None
        records.outbox.add(sent[0])
        records.sender.wake()
        await eventually(lambda: len(lrs.statements) == 1, 20, "the LRS stored it")
        closing = asyncio.create_task(records.close())  # the answer is still held
        await asyncio.sleep(0.1)
        lrs.answer_held.set()
        await closing
        assert len(records.outbox) == 0
    assert (lrs.attempts, lrs.resent) == ([[sent[0]["id"]]], 0)


async def test_retry_after_is_honoured_on_the_clock(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    lrs = InTestLRS(BASIC)
    clock = ManualClock(1_765_000_000.0)
    async with serving(lrs, free_port()) as endpoint:
        sender, outbox, _ = sender_for(settings(endpoint, tmp_path), http, clock)
        lrs.script.append(Scripted(429, {"Retry-After": "30"}))
        outbox.add(session_statements(1)[0])
        await sender.step()
        assert (len(lrs.attempts), len(lrs.statements)) == (1, 0)
        assert sender.not_before == clock.now() + 30
        clock.advance(29.9)
        await sender.step()
        assert len(lrs.attempts) == 1  # not yet
        clock.advance(0.1)
        await sender.step()
    assert (len(lrs.attempts), len(lrs.statements)) == (2, 1)


async def test_a_refused_statement_is_set_aside_with_the_reason_and_the_next_goes(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    lrs = InTestLRS(BASIC)
    good = session_statements(2)
    broken = {**good[0], "id": st.statement_id(FACTS.session_id, "broken"), "verb": {"id": "oops"}}
    async with serving(lrs, free_port()) as endpoint:
        sender, outbox, metrics = sender_for(settings(endpoint, tmp_path), http)
        outbox.add(good[0])
        outbox.add(broken)
        outbox.add(good[1])
        await sender.step()
    assert list(lrs.statements) == [good[0]["id"], good[1]["id"]]
    [dead] = outbox.dead()
    assert dead["statement"] == broken
    assert dead["reason"].startswith("HTTP 400: ")
    assert "verb.id" in dead["reason"]  # the LRS's own words
    assert counted(metrics, "dead_lettered") == 1


async def test_409_means_the_lrs_has_it_already(tmp_path: Path, http: httpx.AsyncClient) -> None:
    lrs = InTestLRS(BASIC)
    async with serving(lrs, free_port()) as endpoint:
        sender, outbox, metrics = sender_for(settings(endpoint, tmp_path), http)
        lrs.script.append(Scripted(409, body="conflict"))
        outbox.add(session_statements(1)[0])
        await sender.step()
    assert (len(outbox), outbox.dead()) == (0, [])
    assert counted(metrics, "already_stored") == 1


async def test_refused_credentials_keep_every_statement_queued(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    lrs = InTestLRS("Basic somebody-else")
    async with serving(lrs, free_port()) as endpoint:
        sender, outbox, metrics = sender_for(settings(endpoint, tmp_path), http)
        for statement in session_statements(3):
            outbox.add(statement)
        await sender.step()
    assert lrs.refusals == ["bad credentials"]  # one attempt, then it waits
    assert (len(outbox), outbox.dead()) == (3, [])
    failures = metrics.registry.get_sample_value(
        "ixstream_orchestrator_lrs_attempt_failures_total", {"reason": "unauthorised"}
    )
    assert failures == 1


async def test_a_stop_while_the_lrs_hangs_is_bounded_and_keeps_the_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records_module, "FLUSH_ON_CLOSE_S", 0.3)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, reads, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = settings(f"http://127.0.0.1:{port}/xapi", tmp_path)
    records = LearningRecords(
        config, tmp_path, SystemClock(), OrchestratorMetrics(CollectorRegistry())
    )
    try:
        await records.start()
        assert records.outbox is not None
        records.outbox.add(session_statements(1)[0])
        async with asyncio.timeout(10):  # the request timeout is 10 s: far above the bound
            await records.close()
    finally:
        server.close()
    restarted = Outbox(tmp_path / "outbox")
    restarted.open(1_765_000_000.0, 30)
    assert len(restarted) == 1
