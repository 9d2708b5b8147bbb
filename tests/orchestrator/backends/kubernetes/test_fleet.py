"""The warm pool on Kubernetes: Agones' buffer policy, kept by one replica at a time.

The policy is a pure function. The fleet itself runs against the simulator: it fills
the buffer, refills it as sessions claim pods, shrinks it when the buffer is lowered
without ever taking a pod a session holds, and, with two replicas running a fleet each,
the lease makes one of them keep the pool, so it is not filled twice; when the keeper
stops, the other takes the pool over once the lease lapses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.fleet import FleetCount, WarmFleet, fleet_target
from orchestrator.backends.kubernetes.manifests import profile_hash
from tests.kubesim.harness import PROFILE, cluster, opened, simulated
from tests.waiting import eventually


@pytest.mark.parametrize(
    ("bound", "buffer", "minimum", "maximum", "warm"),
    [
        (0, 2, 0, 16, 2),
        (5, 2, 0, 16, 2),
        (15, 2, 0, 16, 1),  # max counts every pod, warm and bound
        (20, 2, 0, 16, 0),  # never negative: bound pods are not taken away
        (0, 0, 3, 16, 3),  # min keeps pods even with no buffer
        (1, 0, 3, 16, 2),
    ],
)
def test_the_buffer_policy_is_agones_clamped_to_min_and_max(
    bound: int, buffer: int, minimum: int, maximum: int, warm: int
) -> None:
    assert fleet_target(bound=bound, buffer=buffer, minimum=minimum, maximum=maximum) == warm


def _count(fleet: WarmFleet) -> FleetCount:
    return fleet.count()


async def test_the_fleet_keeps_the_buffer_as_sessions_claim_and_never_retires_a_bound_pod(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=4, gpus=4), tmp_path) as sim,
        opened(sim, pool_buffer=3, pool_interval_s=0.05) as backend,
    ):
        fleet = WarmFleet(backend, PROFILE, start_timeout_s=10)
        await fleet.start()
        try:
            await eventually(lambda: _count(fleet).ready == 3)
            claimed = [await backend.claim(PROFILE, f"s-{i}") for i in range(2)]
            assert all(claimed)
            await eventually(lambda: _count(fleet).ready == 3 and _count(fleet).bound == 2)
            fleet.buffer = 1  # an operator lowers it
            await eventually(lambda: _count(fleet).ready == 1 and not _retiring(backend))
            assert _count(fleet).bound == 2
            assert {s.id for s in claimed if s} <= set(backend.pods())
        finally:
            await fleet.close()


def _retiring(backend: KubernetesBackend) -> bool:
    return any(
        p["metadata"]["labels"].get("ixstream.io/state") == "retiring"
        for p in backend.pods().values()
    )


def _counting_rounds(fleet: WarmFleet, monkeypatch: pytest.MonkeyPatch) -> list[FleetCount]:
    """The counts each reconcile round of `fleet` saw, as its loop runs them."""
    rounds: list[FleetCount] = []
    reconcile = fleet.reconcile

    async def counted() -> FleetCount:
        rounds.append(await reconcile())
        return rounds[-1]

    monkeypatch.setattr(fleet, "reconcile", counted)
    return rounds


async def test_two_replicas_running_a_fleet_fill_the_pool_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        simulated(cluster(nodes=4, gpus=4), tmp_path) as sim,
        opened(sim, pool_buffer=4, pool_interval_s=0.05, replica_id="a") as a,
        opened(sim, pool_buffer=4, pool_interval_s=0.05, replica_id="b") as b,
    ):
        fleets = [WarmFleet(x, PROFILE, start_timeout_s=10) for x in (a, b)]
        rounds = [_counting_rounds(fleet, monkeypatch) for fleet in fleets]
        for fleet in fleets:
            await fleet.start()
        try:
            await eventually(lambda: _count(fleets[0]).ready == 4, what="the pool filled")
            seen = [len(r) for r in rounds]
            await eventually(
                lambda: all(len(r) >= n + 5 for r, n in zip(rounds, seen, strict=True)),
                what="five more rounds of each fleet",
            )  # in which nobody tops the pool up again
            assert _count(fleets[0]).ready + _count(fleets[0]).starting == 4
            assert sum(f.leader for f in fleets) == 1
            gauge = "ixstream_orchestrator_kubernetes_fleet_pods"
            assert a.metrics.value(gauge, {"state": "ready"}) == 4
            assert b.metrics.value(gauge, {"state": "ready"}) == 4
        finally:
            for fleet in fleets:
                await fleet.close()


async def test_a_dead_warm_pod_is_reaped_and_replaced(tmp_path: Path) -> None:
    async with (
        simulated(cluster(nodes=2, gpus=2), tmp_path) as sim,
        opened(sim, pool_buffer=1, pool_interval_s=0.05) as backend,
    ):
        fleet = WarmFleet(backend, PROFILE, start_timeout_s=10)
        await fleet.start()
        try:
            await eventually(lambda: _count(fleet).ready == 1)
            (first,) = backend.warm_ready(fleet._hash)
            sim.cluster.crash_container("ixstream", first)
            await eventually(lambda: first not in backend.pods() and _count(fleet).ready == 1)
            (replacement,) = backend.warm_ready(fleet._hash)
            assert replacement != first
        finally:
            await fleet.close()


async def test_when_the_keeper_stops_the_other_replica_takes_the_pool_over(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=4, gpus=4), tmp_path) as sim,
        opened(sim, pool_buffer=2, pool_interval_s=0.05, lease_duration_s=1, replica_id="a") as a,
        opened(sim, pool_buffer=2, pool_interval_s=0.05, lease_duration_s=1, replica_id="b") as b,
    ):
        fleets = [WarmFleet(x, PROFILE, start_timeout_s=10) for x in (a, b)]
        for fleet in fleets:
            await fleet.start()
        try:
            await eventually(
                lambda: _count(fleets[0]).ready == 2 and any(f.leader for f in fleets),
                10,
                "a leader and a full pool",
            )
            keeper, other = sorted(fleets, key=lambda f: not f.leader)
            await keeper.close()  # it stops renewing the lease
            assert not other.leader
            await eventually(lambda: other.leader, 10, "the hand-over")  # the lease lapses: 1 s
            claimed = await b.claim(PROFILE, "s-after-hand-over")
            assert claimed is not None
            await eventually(
                lambda: _count(other).ready == 2 and _count(other).bound == 1,
                10,
                "the pool refilled by the new keeper",
            )
        finally:
            for fleet in fleets:
                await fleet.close()


async def test_a_percentage_buffer_grows_the_warm_pool_as_sessions_claim_it(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=4, gpus=4), tmp_path) as sim,
        opened(sim, pool_buffer_percent=50, pool_interval_s=0.05) as backend,
    ):
        fleet = WarmFleet(backend, PROFILE, start_timeout_s=10)
        await fleet.start()
        try:
            await eventually(lambda: _count(fleet).ready == 1)  # 50 % of nothing: one
            fleet_hash = profile_hash(PROFILE)
            for i in range(4):
                await eventually(lambda: len(backend.warm_ready(fleet_hash)) >= 1)
                assert await backend.claim(PROFILE, f"s-{i}") is not None
            # four sessions: eight pods in all, half of them warm
            await eventually(lambda: _count(fleet) == FleetCount(4, 0, 4, ()))
        finally:
            await fleet.close()
