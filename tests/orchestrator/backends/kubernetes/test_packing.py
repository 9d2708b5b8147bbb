"""Bin-packed claims: a claim takes its warm pod from a node where this replica already
serves sessions (then an idle node, then others' nodes; in a fixed order per replica;
never a node being drained), so that after a peak the other nodes hold warm pods only
and the cluster autoscaler may remove them; surplus warm pods are retired from the
idlest nodes first. The ranking is pure; the simulator shows the outcome against
`spread` claims."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from kubesim import kinds
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.fleet import WarmFleet
from orchestrator.backends.kubernetes.packing import NodeLoad
from tests.kubesim.harness import PROFILE, cluster, opened, simulated
from tests.waiting import eventually


def test_nodes_rank_mine_first_then_idle_then_others_and_drained_ones_not_at_all() -> None:
    load = NodeLoad("replica-a")
    for pod, node, bound, mine in [
        ("a1", "a", True, True),  # a session of mine
        ("b1", "b", True, False),  # another replica's session
        ("b2", "b", False, False),
        ("c1", "c", False, False),  # warm pods only
        ("d1", "d", False, False),
    ]:
        load.place(pod, node, bound, mine)
    ranked = list(load.preferred(["a", "b", "c", "d"]))
    assert ranked[0] == "a"
    assert set(ranked[1:3]) == {"c", "d"}  # idle nodes, in this replica's own order
    assert ranked[3] == "b"
    # The order within a tier is fixed per replica, and differs between replicas.
    assert list(load.preferred(["c", "d"])) == ranked[1:3]
    orders = set()
    for replica in ("r1", "r2", "r3", "r4", "r5", "r6"):
        other = NodeLoad(replica)
        orders.add(tuple(other.preferred([f"n{i}" for i in range(8)])))
    assert len(orders) > 1
    # Sessions that end leave the node idle again.
    load.place("a1", None, False)
    assert (load.sessions_on("a"), load.pods_on("a")) == (0, 0)
    load.place("c1", "c", True, True)
    assert next(load.preferred(["a", "b", "c", "d"])) == "c"
    load.draining.add("c")
    assert "c" not in list(load.preferred(["a", "b", "c", "d"]))


async def _nodes_serving_sessions(tmp_path: Path, placement: str) -> Counter[str]:
    async with (
        simulated(cluster(nodes=4, gpus=4), tmp_path / placement) as sim,
        opened(sim, claim_placement=placement) as backend,
    ):
        spawned = await asyncio.gather(*(backend.spawn(PROFILE, None) for _ in range(16)))
        await asyncio.gather(*(backend.wait_ready(s.id, 30) for s in spawned))
        for i in range(4):
            assert await backend.claim(PROFILE, f"s-{i}") is not None
            await eventually(lambda i=i: _bound(backend) == i + 1)  # the watch brought it
        pods = sim.cluster.store.list(kinds.PODS, "ixstream")
        return Counter(
            p["spec"]["nodeName"] for p in pods if p["metadata"]["labels"][m.STATE] == m.BOUND
        )


def _bound(backend: KubernetesBackend) -> int:
    return sum(
        backend.node_load.sessions_on(n) for n in {f"gpu-node-{i:04d}" for i in (1, 2, 3, 4)}
    )


async def test_packed_claims_fill_one_node_where_spread_claims_pin_several(
    tmp_path: Path,
) -> None:
    packed = await _nodes_serving_sessions(tmp_path, "pack")
    assert list(packed.values()) == [4]  # four sessions, one node
    spread = [len(await _nodes_serving_sessions(tmp_path, "spread")) for _ in range(3)]
    assert max(spread) > 1  # at random, four of sixteen pods almost never share a node


async def test_with_packed_claims_the_fleet_retires_surplus_pods_from_the_idlest_node_first(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=2, gpus=4), tmp_path) as sim,
        opened(sim, pool_buffer=4, pool_interval_s=0.05) as backend,
    ):
        fleet = WarmFleet(backend, PROFILE, start_timeout_s=10)
        await fleet.start()
        try:
            await eventually(lambda: fleet.count().ready == 4)
            assert await backend.claim(PROFILE, "s-1") is not None
            await eventually(lambda: fleet.count().ready == 4 and fleet.count().bound == 1)
            busy = next(n for n in _nodes(backend) if backend.node_load.sessions_on(n))
            fleet.buffer = 1  # demand fell: three warm pods too many
            await eventually(lambda: fleet.count().ready == 1 and not _retiring(backend))
            # What is left sits beside the session: the other node holds nothing of ours.
            assert {backend.pods()[n]["spec"]["nodeName"] for n in backend.pods()} == {busy}
        finally:
            await fleet.close()


def _nodes(backend: KubernetesBackend) -> set[str]:
    return {p["spec"]["nodeName"] for p in backend.pods().values() if p["spec"].get("nodeName")}


def _retiring(backend: KubernetesBackend) -> bool:
    return any(p["metadata"]["labels"].get(m.STATE) == "retiring" for p in backend.pods().values())
