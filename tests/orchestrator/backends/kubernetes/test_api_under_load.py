"""The Kubernetes backend against an API server under load, on the simulator's faults:
429 with `Retry-After`, 500/503, writes applied whose answers were lost, slow answers,
watch connections dropped or gone silent, and lists read a page at a time.

Each test starts sessions through the fault and then counts on the cluster itself:
every session has exactly one pod (none lost, none doubled), and the backend's watch
cache agrees with the cluster.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kubesim import kinds
from kubesim.serve import RunningSimulator
from orchestrator.backends.base import StreamerPhase
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.client import KubeClient
from tests.kubesim.harness import (
    NAMESPACE,
    PROFILE,
    cluster,
    fault_plan,
    inject,
    opened,
    settings,
    simulated,
)
from tests.waiting import eventually

#: Quick retries, so a test spends its time on the faults, not on waiting.
FAST_RETRIES: dict[str, Any] = {"api_retry_base_s": 0.01, "api_retry_cap_s": 1.5}
RELISTS = "ixstream_orchestrator_kubernetes_watch_relists_total"


def pods_by_session(sim: RunningSimulator) -> Counter[str]:
    pods = sim.cluster.store.list(kinds.PODS, NAMESPACE)
    return Counter(p["metadata"]["annotations"].get(m.SESSION_ANNOTATION, "") for p in pods)


async def start_sessions(backend: KubernetesBackend, sessions: list[str]) -> None:
    """Start one pod per session and wait until each is ready (through the cache)."""
    spawned = await asyncio.gather(*(backend.spawn(PROFILE, s) for s in sessions))
    ready = await asyncio.gather(*(backend.wait_ready(s.id, 30) for s in spawned))
    assert all(r.phase is StreamerPhase.READY for r in ready)


async def test_sessions_started_through_429s_and_5xx_each_get_exactly_one_pod(
    tmp_path: Path,
) -> None:
    async with simulated(cluster(nodes=2, gpus=4), tmp_path) as sim:
        await inject(
            sim,
            {"verb": "create", "resource": "pods", "status": 429, "retryAfterSeconds": 1},
            {"verb": "create", "resource": "pods", "status": 503, "times": 3},
            {"verb": "create", "resource": "secrets", "status": 500, "times": 2},
            {"verb": "create", "resource": "pods", "status": 502, "times": 1},
        )
        async with opened(sim, **FAST_RETRIES) as backend:
            started = time.monotonic()
            sessions = [f"s-{i}" for i in range(6)]
            await start_sessions(backend, sessions)
            assert time.monotonic() - started >= 1.0  # the Retry-After was honoured
            assert pods_by_session(sim) == Counter(sessions)
            assert len(sim.cluster.store.list(kinds.SECRETS, NAMESPACE)) == len(sessions)
            assert [rule["hits"] for rule in await fault_plan(sim)] == [1, 3, 2, 1]
            retries = "ixstream_orchestrator_kubernetes_api_retries_total"
            assert backend.metrics.value(retries, {"call": "create_pod"}) == 5
            assert backend.metrics.value(retries, {"call": "create_secret"}) == 2


async def test_creates_whose_answers_were_lost_make_one_pod_and_one_secret_each(
    tmp_path: Path,
) -> None:
    async with simulated(cluster(nodes=2, gpus=4), tmp_path) as sim:
        await inject(
            sim,
            {"verb": "create", "resource": "pods", "status": 504, "commit": True, "times": 2},
            {"verb": "create", "resource": "secrets", "status": 504, "commit": True},
        )
        async with opened(sim, **FAST_RETRIES) as backend:
            sessions = ["s-a", "s-b", "s-c"]
            await start_sessions(backend, sessions)
            assert pods_by_session(sim) == Counter(sessions)
            assert len(sim.cluster.store.list(kinds.SECRETS, NAMESPACE)) == len(sessions)
            assert [rule["hits"] for rule in await fault_plan(sim)] == [2, 1]


async def test_answers_slower_than_the_request_timeout_are_retried_without_doubling(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=2, gpus=4), tmp_path) as sim,
        opened(sim, request_timeout_s=0.4, **FAST_RETRIES) as backend,
    ):
        # The slow create is applied late, after its retry: it then meets AlreadyExists.
        await inject(sim, {"verb": "create", "resource": "pods", "delaySeconds": 1.0})
        await start_sessions(backend, ["s-slow", "s-next"])

        async def late_create_answered() -> bool:
            return bool((await fault_plan(sim))[0]["settled"] == 1)

        await eventually(late_create_answered, 10, "the slow create was answered")
        assert pods_by_session(sim) == Counter(["s-slow", "s-next"])


async def test_a_claim_whose_answer_was_lost_is_won_once_and_handed_out(tmp_path: Path) -> None:
    async with (
        simulated(cluster(nodes=2, gpus=4), tmp_path) as sim,
        opened(sim, **FAST_RETRIES) as backend,
    ):
        warm = await asyncio.gather(*(backend.spawn(PROFILE, None) for _ in range(3)))
        await asyncio.gather(*(backend.wait_ready(s.id, 30) for s in warm))
        await inject(sim, {"verb": "patch", "resource": "pods", "status": 504, "commit": True})
        claimed = await backend.claim(PROFILE, "s-claim")
        assert claimed is not None
        assert claimed.session_id == "s-claim"
        bound = [
            p
            for p in sim.cluster.store.list(kinds.PODS, NAMESPACE)
            if p["metadata"]["labels"][m.STATE] == m.BOUND
        ]
        assert [p["metadata"]["name"] for p in bound] == [claimed.id]
        assert [rule["hits"] for rule in await fault_plan(sim)] == [1]


async def test_dropped_watch_connections_are_resumed_and_the_cache_misses_nothing(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=2, gpus=4), tmp_path) as sim,
        opened(sim, **FAST_RETRIES) as backend,
    ):
        # Every following watch loses its connection after two events.
        await inject(sim, {"verb": "watch", "watch": "drop", "afterEvents": 2, "times": 4})
        # End the healthy watch the backend holds, as a server restart would.
        sim.cluster.store.close_watchers()
        sessions = [f"s-{i}" for i in range(4)]
        await start_sessions(backend, sessions)
        assert pods_by_session(sim) == Counter(sessions)
        listed = await backend.list()
        assert sorted(s.session_id or "" for s in listed) == sessions
        assert (await fault_plan(sim))[0]["hits"] >= 1


async def test_a_silent_watch_is_noticed_and_the_cache_lists_again(tmp_path: Path) -> None:
    async with simulated(cluster(nodes=2, gpus=4), tmp_path, bookmark_interval_s=0.1) as sim:
        # The backend's first watch goes quiet at once, its connection left open.
        await inject(sim, {"verb": "watch", "watch": "silent"})
        async with opened(sim, watch_idle_timeout_s=1.0, **FAST_RETRIES) as backend:
            await start_sessions(backend, ["s-quiet"])
            assert backend.metrics.value(RELISTS) >= 1
            assert pods_by_session(sim) == Counter(["s-quiet"])


async def test_the_cache_lists_every_pod_a_page_at_a_time(tmp_path: Path) -> None:
    async with (
        simulated(cluster(nodes=2, gpus=4), tmp_path) as sim,
        opened(sim, replica_id="first") as first,
    ):
        sessions = [f"s-{i}" for i in range(7)]
        await start_sessions(first, sessions)
        # A rule without an effect only counts the requests it matches: the list pages.
        await inject(sim, {"verb": "list", "resource": "pods", "times": None})
        async with opened(sim, replica_id="second", list_page_size=2) as second:
            listed = await second.list()
            assert sorted(s.session_id or "" for s in listed) == sessions
            assert (await fault_plan(sim))[0]["hits"] == 4  # 2 + 2 + 2 + 1


async def test_a_list_whose_continue_token_expired_starts_again_and_is_complete(
    tmp_path: Path,
) -> None:
    config = dataclasses.replace(cluster(nodes=1, gpus=4), history_size=5)
    async with simulated(config, tmp_path, enforce_role=False) as sim:
        api = KubeClient(settings(sim, list_page_size=1))
        await api.open()
        try:
            for name in ("p-1", "p-2", "p-3"):
                await api.create_pod(_plain_pod(name))
            await inject(
                sim,
                {"verb": "list", "resource": "pods"},  # the first page: counted only
                {"verb": "list", "resource": "pods", "delaySeconds": 0.5},  # the second: late
                {"verb": "list", "resource": "pods", "times": None},  # the rest: counted
            )
            listing = asyncio.create_task(api.list_pods("app=plain"))

            async def second_page_waiting() -> bool:
                return bool((await fault_plan(sim))[1]["hits"] == 1)

            await eventually(second_page_waiting, 10, "the second page is held")
            # Meanwhile, more writes than the history keeps: the continue token expires.
            for i in range(8):
                await api.create_secret({"metadata": {"name": f"filler-{i}"}, "data": {}})
            items = (await listing)["items"]
            assert sorted(p["metadata"]["name"] for p in items) == ["p-1", "p-2", "p-3"]
            # The late page met 410; the list began again: three more pages.
            assert (await fault_plan(sim))[2]["hits"] >= 3
        finally:
            await api.close()


def _plain_pod(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": "plain"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


async def test_a_refused_watch_waits_as_asked_and_the_cache_still_catches_up(
    tmp_path: Path,
) -> None:
    async with simulated(cluster(nodes=2, gpus=4), tmp_path) as sim:
        await inject(sim, {"verb": "watch", "status": 429, "retryAfterSeconds": 1})
        async with opened(sim, **FAST_RETRIES) as backend:
            started = time.monotonic()
            await start_sessions(backend, ["s-refused"])
            # Ready only through the watch, which waited the second it was asked to.
            assert time.monotonic() - started >= 1.0
            assert backend.metrics.value(RELISTS) >= 1
            assert pods_by_session(sim) == Counter(["s-refused"])
