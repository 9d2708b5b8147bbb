"""Claims on Kubernetes: two orchestrator replicas, one warm pool, no double hand-out.

Two backends with separate API clients (two replicas) claim concurrently from one pool
of 50 ready warm pods with 200 session requests. Every claim is a merge patch carrying
the resourceVersion its replica read, so the API server lets exactly one claim per pod
through and answers the others 409; the losers retry elsewhere. The test asserts the
outcome on the cluster itself, not on what the backends say. The back-off after a lost
race is full jitter, bounded and growing with the conflicts met.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from kubesim import kinds
from orchestrator.backends.base import StreamerPhase
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.claims import jitter
from tests.kubesim.harness import PROFILE, cluster, opened, simulated
from tests.waiting import eventually

POOL = 50
REQUESTS = 200


async def test_two_replicas_claiming_one_pool_never_hand_out_a_pod_twice(tmp_path: Path) -> None:
    async with (
        simulated(cluster(nodes=10, gpus=8), tmp_path) as sim,
        opened(sim, replica_id="replica-a") as a,
        opened(sim, replica_id="replica-b") as b,
    ):
        spawned = await asyncio.gather(*(a.spawn(PROFILE, None) for _ in range(POOL)))
        await asyncio.gather(*(a.wait_ready(s.id, 30) for s in spawned))
        warm = sim.cluster.store.list(kinds.PODS, "ixstream")
        assert {p["metadata"]["annotations"][m.SAFE_TO_EVICT_ANNOTATION] for p in warm} == {"true"}
        # Replica B learns of A's pods through its own watch.
        await eventually(
            lambda: len(b.warm_ready(m.profile_hash(PROFILE))) == POOL, 30, "B sees the pool"
        )

        outcomes = await asyncio.gather(
            *(
                (a if i % 2 else b).claim_with_outcome(PROFILE, f"s-{i:03d}")
                for i in range(REQUESTS)
            )
        )

        won = [o.streamer for o in outcomes if o.streamer is not None]
        assert len(won) == POOL
        assert len({s.id for s in won}) == POOL  # no pod handed out twice
        assert len({s.session_id for s in won}) == POOL
        assert all(s.phase is StreamerPhase.READY and s.base_url for s in won)
        # The cluster agrees: each pod is bound to the one session that won it.
        pods = {p["metadata"]["name"]: p for p in sim.cluster.store.list(kinds.PODS, "ixstream")}
        for streamer in won:
            meta = pods[streamer.id]["metadata"]
            assert meta["labels"][m.STATE] == m.BOUND
            assert meta["annotations"][m.SESSION_ANNOTATION] == streamer.session_id
            assert meta["annotations"][m.SAFE_TO_EVICT_ANNOTATION] == "false"
        claimed_by = Counter(
            pods[s.id]["metadata"]["annotations"][m.CLAIMED_BY_ANNOTATION] for s in won
        )
        assert set(claimed_by) <= {"replica-a", "replica-b"}
        # Lost races are counted, by both replicas together, exactly as they happened.
        conflicts = sum(o.conflicts for o in outcomes)
        name = "ixstream_orchestrator_kubernetes_claim_conflicts_total"
        assert a.metrics.value(name) + b.metrics.value(name) == conflicts
        assert conflicts > 0
        claimed = "ixstream_orchestrator_kubernetes_claims_total"
        assert (
            a.metrics.value(claimed, {"outcome": "claimed"})
            + b.metrics.value(claimed, {"outcome": "claimed"})
            == POOL
        )
        # Nothing is left to claim, for either replica.
        assert await a.claim(PROFILE, "s-late") is None
        assert await b.claim(PROFILE, "s-late") is None


async def test_a_claim_only_takes_ready_warm_pods_of_its_profile(tmp_path: Path) -> None:
    async with simulated(cluster(nodes=2, gpus=2), tmp_path) as sim, opened(sim) as backend:
        other = PROFILE.__class__("test-pattern", None, 640, 480, 30, "vp8", False, 500)
        cold = await backend.spawn(PROFILE, "s-cold")  # bound from birth
        warm_other = await backend.spawn(other, None)
        await asyncio.gather(backend.wait_ready(cold.id, 10), backend.wait_ready(warm_other.id, 10))
        assert await backend.claim(PROFILE, "s-x") is None
        claimed = await backend.claim(other, "s-y")
        assert claimed is not None
        assert claimed.id == warm_other.id


def test_the_back_off_after_a_conflict_is_full_jitter_doubling_up_to_64_times() -> None:
    for conflicts, ceiling in ((1, 0.02), (3, 0.08), (6, 0.64), (20, 0.64)):
        delays = [jitter(0.01, conflicts) for _ in range(400)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the whole range, not a fixed delay
