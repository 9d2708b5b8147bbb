"""Prometheus metrics for the control plane, on a registry owned by one app.

Names follow Prometheus conventions (`ixstream_orchestrator_<what>_<unit>`, counters
end in `_total`, durations in seconds) and no label carries a session id, so the
series count stays fixed however many sessions run. Gauges that describe current state
(sessions by state, queue length, warm pool) are computed at scrape time from a
snapshot callback instead of being kept in step by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from orchestrator.sessions.states import EndReason, FailureReason, SessionState

NAMESPACE = "ixstream_orchestrator"

#: Session start latencies: warm claims land in the first buckets, cold starts in the
#: last ones (DESIGN.md §5 targets: warm ≤ 0.25 s, cold ≤ 2 s).
START_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Current counts, read at scrape time."""

    sessions_by_state: dict[SessionState, int] = field(default_factory=dict)
    queue_length: int = 0
    pool_ready: int = 0
    pool_starting: int = 0


class _StateCollector(Collector):
    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot()
        sessions = GaugeMetricFamily(
            f"{NAMESPACE}_sessions", "Sessions in each lifecycle state.", labels=["state"]
        )
        for state in SessionState:
            sessions.add_metric([state.value], snap.sessions_by_state.get(state, 0))
        yield sessions
        yield GaugeMetricFamily(
            f"{NAMESPACE}_queue_length", "Sessions waiting for capacity.", value=snap.queue_length
        )
        pool = GaugeMetricFamily(
            f"{NAMESPACE}_warm_pool_streamers", "Unclaimed streamers by phase.", labels=["phase"]
        )
        pool.add_metric(["ready"], snap.pool_ready)
        pool.add_metric(["starting"], snap.pool_starting)
        yield pool

    def describe(self) -> Iterator[Metric]:
        return iter(())


class OrchestratorMetrics:
    """Every metric the orchestrator exports, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.transitions = Counter(
            f"{NAMESPACE}_session_transitions_total",
            "Session state transitions.",
            ["source", "target"],
            registry=registry,
        )
        self.failures = Counter(
            f"{NAMESPACE}_session_failures_total",
            "Sessions that failed, by reason.",
            ["reason"],
            registry=registry,
        )
        self.ends = Counter(
            f"{NAMESPACE}_session_ends_total",
            "Sessions that ended normally, by reason.",
            ["reason"],
            registry=registry,
        )
        self.claims = Counter(
            f"{NAMESPACE}_claims_total",
            "Streamer assignments to sessions: `warm` claimed from the pool, `cold` spawned.",
            ["kind"],
            registry=registry,
        )
        self.rejections = Counter(
            f"{NAMESPACE}_session_rejections_total",
            "Session requests refused for capacity, by reason (`full`, `queue_full`).",
            ["reason"],
            registry=registry,
        )
        self.ready_latency = Histogram(
            f"{NAMESPACE}_session_ready_seconds",
            "Time from the create request to the session being ready.",
            ["kind"],
            buckets=START_BUCKETS,
            registry=registry,
        )
        self.first_frame_latency = Histogram(
            f"{NAMESPACE}_session_first_frame_seconds",
            "Time from the create request to the streamer sending its first frame.",
            ["kind"],
            buckets=START_BUCKETS,
            registry=registry,
        )
        self.queue_wait = Histogram(
            f"{NAMESPACE}_queue_wait_seconds",
            "Time sessions spent pending in the queue.",
            buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800),
            registry=registry,
        )
        self.streamer_spawns = Counter(
            f"{NAMESPACE}_streamer_spawns_total",
            "Streamers started, by purpose (`pool`, `session`) and outcome.",
            ["purpose", "outcome"],
            registry=registry,
        )
        self.aar_pull_failures = Counter(
            f"{NAMESPACE}_aar_pull_failures_total",
            "After-action log pulls from streamers that failed (the session goes on).",
            registry=registry,
        )
        self.recording_fetch_failures = Counter(
            f"{NAMESPACE}_recording_fetch_failures_total",
            "Session recordings that could not be stopped or fetched at the session's end.",
            registry=registry,
        )
        # Learning records (orchestrator/learning, docs/learning-records.md).
        self.lrs_statements = Counter(
            f"{NAMESPACE}_lrs_statements_total",
            "xAPI statements by outcome: `queued`, `delivered`, `already_stored` (409), "
            "`dead_lettered` (refused for good), `lost` (could not be queued).",
            ["outcome"],
            registry=registry,
        )
        self.lrs_attempt_failures = Counter(
            f"{NAMESPACE}_lrs_attempt_failures_total",
            "LRS delivery attempts that must be retried, by reason.",
            ["reason"],
            registry=registry,
        )
        self.lrs_outbox = Gauge(
            f"{NAMESPACE}_lrs_outbox_statements",
            "xAPI statements waiting on disk for the LRS.",
            registry=registry,
        )

        # Export every known series from the start, at zero, so rates and alerts work
        # before the first failure rather than after it.
        for failure in FailureReason:
            self.failures.labels(failure.value)
        for end in EndReason:
            self.ends.labels(end.value)
        for kind in ("warm", "cold"):
            self.claims.labels(kind)
        for outcome in ("queued", "delivered", "already_stored", "dead_lettered", "lost"):
            self.lrs_statements.labels(outcome)
        for why in (
            "unreachable",
            "throttled",
            "server_error",
            "unauthorised",
            "misdirected",
            "step_failed",
        ):
            self.lrs_attempt_failures.labels(why)

    def track_state(self, snapshot: Callable[[], Snapshot]) -> None:
        """Export the gauges computed from `snapshot()` on every scrape."""
        self.registry.register(_StateCollector(snapshot))
