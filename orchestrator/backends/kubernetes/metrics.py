"""Metrics of the Kubernetes backend: claims, their conflicts and latency, relists.

Names follow `orchestrator.metrics` (`ixstream_orchestrator_<what>_<unit>`, counters
end in `_total`, no per-session or per-pod label). A 409 on a claim is not an error:
it is another replica winning a race, and its rate tells how contended the pool is
(Agones exports the same for its allocator).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "ixstream_orchestrator_kubernetes"
CLAIM_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


class KubernetesMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.claims = Counter(
            f"{PREFIX}_claims_total",
            "Warm-pod claims by outcome (`claimed`, `none_free`).",
            ["outcome"],
            registry=self.registry,
        )
        self.claim_conflicts = Counter(
            f"{PREFIX}_claim_conflicts_total",
            "Claims that lost a race for a pod (409 Conflict) and tried another.",
            registry=self.registry,
        )
        self.claim_seconds = Histogram(
            f"{PREFIX}_claim_seconds",
            "Time to claim a warm pod, retries included.",
            buckets=CLAIM_BUCKETS,
            registry=self.registry,
        )
        self.pod_failures = Counter(
            f"{PREFIX}_pod_failures_total",
            "Streamer pods found unable to serve, by fate (node_lost, evicted, crashed...).",
            ["fate"],
            registry=self.registry,
        )
        self.relists = Counter(
            f"{PREFIX}_watch_relists_total",
            "Watches that had to list again after 410 Gone.",
            registry=self.registry,
        )
        self.api_retries = Counter(
            f"{PREFIX}_api_retries_total",
            "API calls tried again after 429, 5xx or a lost connection, by call "
            "(create_pod, patch_pod, list_pods...): how hard the API server is pushing back.",
            ["call"],
            registry=self.registry,
        )

        self.fleet_pods = Gauge(
            f"{PREFIX}_fleet_pods",
            "Streamer pods of the warm pool's profile by state (ready, starting, bound), as "
            "this replica's watch cache sees them: take the max across replicas, not the sum.",
            ["state"],
            registry=self.registry,
        )

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample's current value (for tests and the benchmark)."""
        sample = self.registry.get_sample_value(name, labels or {})
        return float(sample or 0.0)
