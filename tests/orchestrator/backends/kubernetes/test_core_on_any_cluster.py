"""The backend's core on any API server: the simulator always, a real cluster under
`-m real_cluster` (see `conftest.py`). A session's pod is created, becomes ready and is
deleted; a warm pod is claimed once and only once; a restarted backend finds every
streamer and session again. Everything is checked against what the API server says,
never against the simulator's insides, so the same assertions hold on a real cluster.
"""

from __future__ import annotations

import asyncio

from orchestrator.backends.base import StreamerPhase
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.client import Obj
from tests.kubesim.harness import PROFILE
from tests.orchestrator.backends.kubernetes.clusters import ApiCluster
from tests.waiting import eventually


def _sessions(pods: list[Obj]) -> list[str]:
    return sorted(
        str((p["metadata"].get("annotations") or {}).get(m.SESSION_ANNOTATION, "")) for p in pods
    )


async def test_a_session_pod_is_created_becomes_ready_and_is_deleted(
    api_cluster: ApiCluster,
) -> None:
    async with api_cluster.backend() as backend:
        streamer = await backend.spawn(PROFILE, "s-create")
        ready = await backend.wait_ready(streamer.id, api_cluster.ready_timeout_s)
        assert ready.phase is StreamerPhase.READY
        assert ready.base_url
        assert _sessions(await api_cluster.pods()) == ["s-create"]
        await backend.delete(streamer.id)

        async def gone() -> bool:
            return not await api_cluster.pods()

        await eventually(gone, api_cluster.ready_timeout_s, "the session's pod is deleted")


async def test_a_warm_pod_is_claimed_once_and_only_once(api_cluster: ApiCluster) -> None:
    async with api_cluster.backend() as backend:
        warm = await backend.spawn(PROFILE, None)
        await backend.wait_ready(warm.id, api_cluster.ready_timeout_s)
        first, second = await asyncio.gather(
            backend.claim(PROFILE, "s-first"), backend.claim(PROFILE, "s-second")
        )
        winners = [c for c in (first, second) if c is not None]
        assert [c.id for c in winners] == [warm.id]
        pods = await api_cluster.pods()
        assert [p["metadata"]["labels"][m.STATE] for p in pods] == [m.BOUND]
        assert _sessions(pods) == [winners[0].session_id]


async def test_a_restarted_backend_finds_every_streamer_and_session(
    api_cluster: ApiCluster,
) -> None:
    async with api_cluster.backend(replica_id="before") as first:
        cold = await first.spawn(PROFILE, "s-cold")
        warm = await first.spawn(PROFILE, None)
        await asyncio.gather(
            *(first.wait_ready(s.id, api_cluster.ready_timeout_s) for s in (cold, warm))
        )
        before = {s.id: s.session_id for s in await first.list()}
    async with api_cluster.backend(replica_id="after", list_page_size=1) as second:
        after = {s.id: s.session_id for s in await second.list()}
        assert after == before == {cold.id: "s-cold", warm.id: None}
        claimed = await second.claim(PROFILE, "s-after")
        assert claimed is not None
        assert claimed.id == warm.id
