"""Learning-records benchmark: what the durable outbox costs over sending straight.

Both sides deliver the same statements, one `POST /statements` each, to the same LRS
endpoint running in this process over real HTTP on loopback (the tests' LRS, which
validates every statement with ralph's xAPI models):

- `baseline`: bare POSTs with one HTTP client, nothing written to disk: what no outbox
  could beat;
- `sender`: the statements, already queued in the outbox, delivered by the sender
  (`StatementSender.step`): each read from its file and moved to `delivered/` on the
  LRS's answer.

Figures: statements per second each way, their time ratio, and the queueing cost per
statement (what a session-service hook pays on the event loop: one fsync'd file each,
and the folder's fsync once per call), alone and in pages of 10 as a log pull queues.

Run: `python -m bench learning` (prints JSON).
"""

from __future__ import annotations

import asyncio
import base64
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from orchestrator.clock import SystemClock
from orchestrator.learning import statements as st
from orchestrator.learning.outbox import Outbox
from orchestrator.learning.sender import StatementSender, request_headers
from orchestrator.learning.settings import LearningSettings
from orchestrator.metrics import OrchestratorMetrics
from tests.orchestrator.learning.lrs import InTestLRS, free_port, serving

STATEMENTS = 300
PAGE = 10
WORDS = st.Vocabulary("https://lms.example.org/ixstream/", "https://idp.example.org")
AUTH = "Basic " + base64.b64encode(b"bench:bench-password").decode()


def _statements(session: str) -> list[dict[str, Any]]:
    facts = st.SessionFacts(session, "alice", "gas-leak-warehouse")
    made = []
    for seq in range(STATEMENTS):
        entry = {"seq": seq, "at": 1_765_000_000.0 + seq, "kind": "trigger_fired",
                 "trigger": f"t{seq}"}  # fmt: skip
        statement = st.from_log_entry(WORDS, facts, entry)
        assert statement is not None
        made.append(statement)
    return made


async def _measure(directory: Path) -> dict[str, Any]:
    lrs = InTestLRS(AUTH)
    async with serving(lrs, free_port()) as endpoint:
        settings = LearningSettings.model_validate({
            "lrs_endpoint": endpoint, "lrs_username": "bench", "lrs_password": "bench-password",
            "activity_base": WORDS.activity_base, "actor_home_page": WORDS.home_page,
        })  # fmt: skip
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            url, headers = endpoint + "/statements", request_headers(settings)
            started = time.perf_counter()
            for statement in _statements("s-baseline000000"):
                (await http.post(url, json=statement, headers=headers)).raise_for_status()
            baseline_s = time.perf_counter() - started

            outbox = Outbox(directory)
            outbox.open(time.time(), 30)
            sender = StatementSender(
                settings=settings, outbox=outbox, http=http, clock=SystemClock(),
                metrics=OrchestratorMetrics(CollectorRegistry()), rng=random.Random(0),
            )  # fmt: skip
            made = _statements("s-outbox00000000")
            half = STATEMENTS // 2
            started = time.perf_counter()
            for statement in made[:half]:  # one at a time, as a transition queues
                outbox.add(statement)
            single_s = time.perf_counter() - started
            for page in range(half, STATEMENTS, PAGE):  # a page at a time, as a log pull does
                outbox.add_all(made[page : page + PAGE])
            paged_s = time.perf_counter() - started - single_s
            started = time.perf_counter()
            await sender.step()
            outbox_s = time.perf_counter() - started
    assert len(lrs.statements) == 2 * STATEMENTS
    assert not lrs.refusals
    assert len(outbox) == 0
    return {
        "statements": STATEMENTS,
        "baseline_posts_per_s": round(STATEMENTS / baseline_s, 1),
        "sender_delivered_per_s": round(STATEMENTS / outbox_s, 1),
        "sender_vs_baseline_time": round(outbox_s / baseline_s, 2),
        "queue_us_per_statement_alone": round(single_s / half * 1e6, 1),
        "queue_us_per_statement_in_pages_of_10": round(paged_s / (STATEMENTS - half) * 1e6, 1),
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_measure(Path(tmp)))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
