"""An orchestrator restart loses nothing: every streamer is found again from the pods.

The first backend starts warm pods, claims one and cold-starts another, then closes
(as a crashed or upgraded orchestrator would). A second backend, with a new client and
an empty cache, lists the namespace and sees the same streamers with their sessions
and keys (derived from the pod names and the shared seed, never read back from a
Secret), and can still claim the remaining warm ones. A watch
that falls too far behind (410 Gone) lists again instead of missing changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from kubesim import kinds
from orchestrator.backends.base import StreamerPhase
from tests.kubesim.harness import PROFILE, cluster, opened, simulated
from tests.waiting import eventually


async def test_a_restarted_backend_finds_every_streamer_session_and_key(tmp_path: Path) -> None:
    async with simulated(cluster(nodes=2, gpus=4), tmp_path) as sim:
        async with opened(sim) as first:
            warm = [await first.spawn(PROFILE, None) for _ in range(3)]
            cold = await first.spawn(PROFILE, "s-cold")
            await asyncio.gather(*(first.wait_ready(s.id, 10) for s in [*warm, cold]))
            claimed = await first.claim(PROFILE, "s-claimed")
            assert claimed is not None
            before = {s.id: s for s in await first.list()}

        async with opened(sim) as second:
            after = {s.id: s for s in await second.list()}
            assert set(after) == set(before)
            for streamer_id, old in before.items():
                new = after[streamer_id]
                assert (new.session_id, new.key, new.profile) == (
                    old.session_id,
                    old.key,
                    old.profile,
                )
                assert new.phase is StreamerPhase.READY
            assert after[claimed.id].session_id == "s-claimed"
            assert after[cold.id].session_id == "s-cold"
            second_claims = [await second.claim(PROFILE, f"s-{i}") for i in range(3)]
            assert sorted(s.id for s in second_claims if s) == sorted(
                s.id for s in warm if s.id != claimed.id
            )
            assert second_claims[-1] is None


async def test_a_watch_too_old_to_resume_lists_again_and_misses_nothing(tmp_path: Path) -> None:
    config = dataclasses.replace(cluster(nodes=1, gpus=4), history_size=10)
    async with simulated(config, tmp_path) as sim, opened(sim) as backend:
        streamer = await backend.spawn(PROFILE, "s-1")
        await backend.wait_ready(streamer.id, 10)
        # Cut every watch, then write more than the history keeps before anyone resumes.
        store = sim.cluster.store
        store.close_watchers()
        for i in range(20):
            store.create(kinds.CONFIGMAPS, "ixstream", {"metadata": {"name": f"noise-{i}"}})
        sim.cluster.registry.delete(kinds.PODS, "ixstream", streamer.id, {"gracePeriodSeconds": 0})

        async def gone() -> bool:
            return not await backend.list()

        await eventually(gone, 30, "the deleted pod gone from the relisted cache")
        assert await backend.list() == []
        assert backend.metrics.value("ixstream_orchestrator_kubernetes_watch_relists_total") >= 1
