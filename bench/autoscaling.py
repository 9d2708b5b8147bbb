"""The autoscaling drill: a day's demand, compressed into seconds, on the simulator.

Sessions arrive as a Poisson process whose rate follows a working day (quiet night, a
morning ramp, an afternoon peak, a quiet evening) and each holds its streamer for
`session_s`. The simulated cluster (`kubesim`, over real HTTP, the official client)
has GPU nodes that a cluster autoscaler model (`kubesim.autoscaler`) adds when pods
wait for a GPU (joining `node_start_s` later) and removes when they are unneeded; the
orchestrator's Kubernetes backend and its warm fleet serve the sessions. Each request
is served

- **warm**: a ready warm pod was claimed;
- **cold**: none was; a pod was started for it on a node that had a free GPU;
- **queued**: no node had one: the session waited for a new node.

Scenarios run on the same arrivals, one after the other, in one process:

- `fixed_spread`: a fixed buffer of warm pods, claims at random, the default
  (spreading) scheduler: the baseline;
- `buffer_spread`: the buffer a percentage of all pods (Agones' policy), placeholders
  holding GPUs for headroom, still spreading;
- `buffer_packed`: the same, with bin-packed claims and `MostAllocated` scheduling.

Cost is GPU-node time (`gpu_node_hours_per_day`: node-seconds scaled back to a 24-hour
day), the GPU nodes up while demand falls after the peak (17-21 h,
`gpu_nodes_after_peak`), and those still up at the day's end.

`python -m bench.kubernetes autoscaling_drill` runs the drill alone.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog

from kubesim import kinds
from kubesim.autoscaler import AutoscalerConfig, ClusterAutoscaler
from kubesim.cluster import ClusterConfig, NodeShape
from kubesim.kubelet import KubeletConfig
from kubesim.replicaset import ReplicaSetModel
from kubesim.scheduler import Scoring
from kubesim.serve import RunningSimulator, running_simulator
from kubesim.store import Event
from orchestrator.backends.base import StreamerProfile
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.fleet import WarmFleet
from orchestrator.backends.kubernetes.settings import KubernetesSettings

PROFILE = StreamerProfile("test-pattern", None, 1280, 720, 60, "h264", False, 8000)
NAMESPACE = "ixstream"
KEY_SEED = "bP4nW8qZ2xK6vM1tR9cL5hY3jD7fG0sE-bench-seed"
PLACEHOLDER_CLASS = "ixstream-placeholder"
TICK_S = 0.05


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    placement: Literal["pack", "spread"]
    scoring: Scoring
    buffer: int
    buffer_percent: int | None
    placeholders: int


@dataclass(frozen=True, slots=True)
class Day:
    """The compressed day: `day_s` seconds stand for 24 hours."""

    day_s: float = 12.0
    peak_sessions: int = 32
    session_s: float = 2.0
    gpus_per_node: int = 4
    node_start_s: float = 0.3
    unneeded_s: float = 0.3
    seed: int = 13


SCENARIOS = (
    Scenario("fixed_spread", "spread", "LeastAllocated", 2, None, 0),
    Scenario("buffer_spread", "spread", "LeastAllocated", 0, 20, 2),
    Scenario("buffer_packed", "pack", "MostAllocated", 0, 20, 2),
)


def demand(hour: float) -> float:
    """Share of the peak at `hour` (0-24): night 5 %, ramp 7-10 h, peak 13-16 h."""
    points = [(0, 0.05), (7, 0.05), (10, 0.7), (13, 1.0), (16, 1.0), (19, 0.3), (21, 0.05)]
    points.append((24, 0.05))
    for (h0, v0), (h1, v1) in itertools.pairwise(points):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
    return 0.05


def arrivals(day: Day) -> list[float]:
    """Session arrival times (s): a Poisson process thinned to the day's curve, with a
    peak rate that keeps `peak_sessions` busy (Little's law: rate = sessions / hold)."""
    rng = random.Random(day.seed)
    peak_rate = day.peak_sessions / day.session_s
    times: list[float] = []
    t = 0.0
    while True:
        t += rng.expovariate(peak_rate)
        if t >= day.day_s:
            return times
        if rng.random() < demand(24 * t / day.day_s):
            times.append(t)


def _placeholder_template() -> dict[str, Any]:
    container = {
        "name": "pause",
        "image": "registry.k8s.io/pause:3.10",
        "resources": {"limits": {"nvidia.com/gpu": "1"}},
    }
    return {
        "metadata": {"labels": {"app.kubernetes.io/component": "placeholder"}},
        "spec": {
            "priorityClassName": PLACEHOLDER_CLASS,
            "terminationGracePeriodSeconds": 0,
            "containers": [container],
        },
    }


def _settings(sim: RunningSimulator, scenario: Scenario) -> KubernetesSettings:
    return KubernetesSettings.model_validate(
        {
            "kubeconfig": sim.kubeconfig,
            "namespace": NAMESPACE,
            "runtime_class_name": None,
            "streamer_key_seed": KEY_SEED,
            "stop_grace_s": 0,
            "pool_buffer": scenario.buffer,
            "pool_buffer_percent": scenario.buffer_percent,
            "pool_max": 400,
            "pool_interval_s": TICK_S,
            "claim_placement": scenario.placement,
        }
    )


class Tally:
    """How each request was served, and how long it waited (seconds)."""

    def __init__(self) -> None:
        self.served: Counter[str] = Counter()
        self.waits: dict[str, list[float]] = {"warm": [], "cold": [], "queued": []}
        self.failed = 0
        self.ever_unschedulable: set[str] = set()

    def on_event(self, event: Event) -> None:
        if event.kind is not kinds.PODS or event.type == "DELETED":
            return
        for cond in (event.obj.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
                self.ever_unschedulable.add(event.obj["metadata"]["name"])


async def _session(backend: KubernetesBackend, sid: str, hold_s: float, tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    streamer = await backend.claim(PROFILE, sid)
    kind = "warm"
    try:
        if streamer is None:
            streamer = await backend.spawn(PROFILE, sid)
            await backend.wait_ready(streamer.id, 60)
            kind = "queued" if streamer.id in tally.ever_unschedulable else "cold"
    except Exception:  # a failed start is counted, never hides the other figures
        tally.failed += 1
        return
    tally.served[kind] += 1
    tally.waits[kind].append(loop.time() - started)
    await asyncio.sleep(hold_s)  # the session runs
    await backend.delete(streamer.id)


async def _drive(backend: KubernetesBackend, day: Day, times: list[float], tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    origin = loop.time()
    sessions = []
    for i, at in enumerate(times):
        await asyncio.sleep(max(0.0, origin + at - loop.time()))
        sessions.append(loop.create_task(_session(backend, f"s-{i:05d}", day.session_s, tally)))
    await asyncio.gather(*sessions)


async def _tick(scaler: ClusterAutoscaler, placeholders: ReplicaSetModel | None) -> None:
    loop = asyncio.get_running_loop()
    while True:
        scaler.tick(loop.time())
        if placeholders is not None:
            placeholders.reconcile()
        await asyncio.sleep(TICK_S)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


async def run_scenario(
    scenario: Scenario, day: Day, times: list[float], work: Path
) -> dict[str, Any]:
    config = ClusterConfig(
        nodes=1,
        node_shape=NodeShape(gpus=day.gpus_per_node, max_pods=250),
        namespaces=(NAMESPACE,),
        kubelet=KubeletConfig(ready_delay_s=0.05),
        scoring=scenario.scoring,
        priority_classes={PLACEHOLDER_CLASS: -10},
    )
    async with running_simulator(config, work / f"{scenario.name}.kubeconfig") as sim:
        scaler = ClusterAutoscaler(
            sim.cluster,
            AutoscalerConfig(node_start_s=day.node_start_s, unneeded_s=day.unneeded_s),
            day.gpus_per_node,
        )
        placeholders = None
        if scenario.placeholders:
            placeholders = ReplicaSetModel(
                sim.cluster.registry,
                NAMESPACE,
                "ixstream-placeholder",
                _placeholder_template(),
                scenario.placeholders,
            )
        tally = Tally()
        sim.cluster.store.subscribe(tally.on_event)
        backend = KubernetesBackend(_settings(sim, scenario))
        await backend.open()
        fleet = WarmFleet(backend, PROFILE, start_timeout_s=60)
        ticker = asyncio.get_running_loop().create_task(_tick(scaler, placeholders))
        await fleet.start()
        origin = asyncio.get_running_loop().time()
        try:
            await _drive(backend, day, times, tally)
            nodes_at_end = len(scaler.nodes())
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            await fleet.close()
            await backend.close()
    stats = scaler.stats
    return {
        "requests": len(times),
        "warm": tally.served["warm"],
        "cold": tally.served["cold"],
        "queued": tally.served["queued"],
        "failed": tally.failed,
        "wait_ms_p50": {k: _quantile(v, 0.5) for k, v in tally.waits.items()},
        "wait_ms_p95": {k: _quantile(v, 0.95) for k, v in tally.waits.items()},
        "gpu_node_hours_per_day": round(stats.node_seconds * 24 / day.day_s, 1),
        "peak_gpu_nodes": stats.peak_nodes,
        "gpu_nodes_after_peak": _mean_nodes(stats.history, origin, day, (17.0, 21.0)),
        "gpu_nodes_at_day_end": nodes_at_end,
        "nodes_added": stats.added,
        "nodes_removed": stats.removed,
        "placeholders_preempted": placeholders.recreated if placeholders else 0,
    }


def _mean_nodes(
    history: list[tuple[float, int]], origin: float, day: Day, hours: tuple[float, float]
) -> float:
    """Mean GPU nodes up between two hours of the day (as the autoscaler sampled them)."""
    start, end = (origin + h * day.day_s / 24 for h in hours)
    counts = [n for t, n in history if start <= t <= end]
    return round(sum(counts) / len(counts), 2) if counts else 0.0


def _by_name(names: list[str]) -> Iterator[Scenario]:
    return (s for s in SCENARIOS if s.name in names)


async def drill(day: Day, names: list[str] | None = None) -> dict[str, Any]:
    times = arrivals(day)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-autoscale-") as tmp:
        for scenario in _by_name(names or [s.name for s in SCENARIOS]):
            results[scenario.name] = await run_scenario(scenario, day, times, Path(tmp))
    return results


def run(day: Day | None = None) -> dict[str, Any]:
    """The drill's figures, JSON-ready; the baseline (`fixed_spread`) in the same run."""
    # Warnings (a warm pod evicted by a scale-down while starting) go to stderr: stdout
    # is the JSON document alone.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    day = day or Day()
    results = asyncio.run(drill(day))
    base, packed = results["fixed_spread"], results["buffer_packed"]
    results["day"] = {
        "compressed_to_s": day.day_s,
        "peak_sessions": day.peak_sessions,
        "session_s": day.session_s,
        "node_start_s": day.node_start_s,
    }
    results["warm_share"] = {
        name: round(r["warm"] / max(1, r["requests"]), 3)
        for name, r in results.items()
        if isinstance(r, dict) and "warm" in r
    }
    results["packed_vs_spread_gpu_node_hours"] = round(
        packed["gpu_node_hours_per_day"]
        / max(0.1, results["buffer_spread"]["gpu_node_hours_per_day"]),
        3,
    )
    results["queued_buffer_packed_vs_fixed"] = [packed["queued"], base["queued"]]
    return results
