"""Leader election over a coordination.k8s.io/v1 Lease, against the simulator.

The first replica to ask creates the Lease and holds it; another is refused while the
holder renews, takes it over once it has gone unrenewed past its duration (counting a
transition), and the old holder then learns it lost. Two replicas racing for an
expired lease cannot both win: the loser's write carries a stale resourceVersion and
gets 409. Time is a clock moved by hand, as the lease reads our Clock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.lease import LeaderLease, lease_expired
from orchestrator.clock import ManualClock
from tests.kubesim.harness import cluster, opened, simulated

NAME = "ixstream-warm-pool"
DURATION_S = 15.0


def lease_for(backend: KubernetesBackend, clock: ManualClock) -> LeaderLease:
    return LeaderLease(backend.client, NAME, backend.replica_id, DURATION_S, clock)


def test_a_lease_expires_once_unrenewed_past_its_duration() -> None:
    spec = {"renewTime": "2026-01-02T03:04:05.000000Z", "leaseDurationSeconds": 15}
    renewed = 1767323045.0  # 2026-01-02T03:04:05Z
    assert not lease_expired({"spec": spec}, renewed + 15)
    assert lease_expired({"spec": spec}, renewed + 15.001)
    assert lease_expired({"spec": {}}, renewed)  # never renewed: free to take


async def test_the_holder_keeps_the_lease_and_another_replica_takes_it_over_when_it_lapses(
    tmp_path: Path,
) -> None:
    clock = ManualClock(start=1_800_000_000.0)
    async with (
        simulated(cluster(nodes=1), tmp_path) as sim,
        opened(sim, replica_id="a") as a,
        opened(sim, replica_id="b") as b,
    ):
        first, second = lease_for(a, clock), lease_for(b, clock)
        assert await first.try_acquire_or_renew()
        assert not await second.try_acquire_or_renew()
        clock.advance(DURATION_S - 1)
        assert await first.try_acquire_or_renew()  # renewed in time
        clock.advance(DURATION_S - 1)
        assert not await second.try_acquire_or_renew()  # counted from the renewal

        clock.advance(DURATION_S + 1)  # the holder stopped renewing
        assert await second.try_acquire_or_renew()
        assert not await first.try_acquire_or_renew()  # and learns it lost
        spec = (await a.client.get_lease(NAME))["spec"]
        assert spec["holderIdentity"] == "b"
        assert spec["leaseTransitions"] == 1
        assert spec["leaseDurationSeconds"] == 15


async def test_replicas_racing_for_a_lapsed_lease_cannot_both_win(tmp_path: Path) -> None:
    clock = ManualClock(start=1_800_000_000.0)
    async with (
        simulated(cluster(nodes=1), tmp_path) as sim,
        opened(sim, replica_id="old") as old,
        opened(sim, replica_id="racer") as racer,
    ):
        assert await lease_for(old, clock).try_acquire_or_renew()
        clock.advance(DURATION_S + 1)
        identities = [f"r{i}" for i in range(6)]
        won = await asyncio.gather(
            *(
                LeaderLease(racer.client, NAME, i, DURATION_S, clock).try_acquire_or_renew()
                for i in identities
            )
        )
        assert sum(won) == 1
        holder = (await old.client.get_lease(NAME))["spec"]["holderIdentity"]
        assert holder == identities[won.index(True)]
