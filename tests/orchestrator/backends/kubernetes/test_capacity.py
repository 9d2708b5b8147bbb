"""GPU exhaustion: a streamer that no node can take waits, then starts when one can.

The simulated cluster has two GPUs. A third streamer's pod stays Pending with the
scheduler's `Unschedulable` reason; the backend reports it alive and waiting (so its
session stays pending) and `wait_ready` does not count that wait against the start
timeout. When a node joins, the scheduler binds it and it becomes ready.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from orchestrator.backends.base import StreamerPhase
from orchestrator.errors import StreamerStartError
from orchestrator.sessions.states import FailureReason
from tests.kubesim.harness import PROFILE, admin, cluster, opened, simulated
from tests.waiting import eventually


async def test_sessions_beyond_the_gpus_wait_pending_and_start_when_a_node_is_added(
    tmp_path: Path,
) -> None:
    async with simulated(cluster(nodes=2, gpus=1), tmp_path) as sim, opened(sim) as backend:
        first = [await backend.spawn(PROFILE, f"s-{i}") for i in range(2)]
        await asyncio.gather(*(backend.wait_ready(s.id, 10) for s in first))

        extra = [await backend.spawn(PROFILE, f"s-extra-{i}") for i in range(2)]
        await eventually(
            lambda: all(backend.pending_reason(s.id) for s in extra), 30, "both unschedulable"
        )
        waiting = [asyncio.create_task(backend.wait_ready(s.id, 0.5)) for s in extra]
        # wait_ready times out on the loop's clock, which cannot be injected: real time must
        # pass, beyond the start timeout, to show that waiting for a GPU is not starting.
        await asyncio.sleep(0.75)
        assert not any(task.done() for task in waiting)
        for streamer in extra:
            reason = backend.pending_reason(streamer.id)
            assert reason is not None
            assert "Insufficient nvidia.com/gpu" in reason
            observation = await backend.observe(streamer.id)
            assert observation.alive
            assert observation.detail is not None
            assert "waiting for a node" in observation.detail

        await admin(sim, "nodes", {"count": 1, "gpus": 2})
        ready = await asyncio.wait_for(asyncio.gather(*waiting), 10)
        assert all(s.phase is StreamerPhase.READY for s in ready)
        assert {s.session_id for s in ready} == {"s-extra-0", "s-extra-1"}


async def test_a_streamer_waiting_too_long_for_a_gpu_fails_with_start_timeout(
    tmp_path: Path,
) -> None:
    async with (
        simulated(cluster(nodes=1, gpus=0), tmp_path) as sim,
        opened(sim, max_unschedulable_s=0.3) as backend,
    ):
        streamer = await backend.spawn(PROFILE, "s-never")
        with pytest.raises(StreamerStartError) as failure:
            await backend.wait_ready(streamer.id, 10)
        assert failure.value.reason == FailureReason.START_TIMEOUT
        assert "0/1 nodes are available" in failure.value.detail
        await backend.delete(streamer.id)
        assert await backend.list() == []
