"""Metrics: Prometheus names, one registry per app, no per-session labels."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from orchestrator.metrics import OrchestratorMetrics, Snapshot
from orchestrator.sessions.states import SessionState


def exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def test_two_apps_can_each_have_their_own_metrics() -> None:
    one, two = OrchestratorMetrics(CollectorRegistry()), OrchestratorMetrics(CollectorRegistry())
    one.claims.labels("warm").inc()
    assert 'ixstream_orchestrator_claims_total{kind="warm"} 1.0' in exposition(one.registry)
    assert 'ixstream_orchestrator_claims_total{kind="warm"} 0.0' in exposition(two.registry)


def test_state_gauges_are_read_from_the_snapshot_at_scrape_time() -> None:
    metrics = OrchestratorMetrics(CollectorRegistry())
    snap = Snapshot({SessionState.ACTIVE: 2}, queue_length=3, pool_ready=1, pool_starting=1)
    metrics.track_state(lambda: snap)
    text = exposition(metrics.registry)
    assert 'ixstream_orchestrator_sessions{state="active"} 2.0' in text
    assert 'ixstream_orchestrator_sessions{state="pending"} 0.0' in text
    assert "ixstream_orchestrator_queue_length 3.0" in text
    assert 'ixstream_orchestrator_warm_pool_streamers{phase="ready"} 1.0' in text


def test_every_failure_reason_is_exported_at_zero_before_it_happens() -> None:
    text = exposition(OrchestratorMetrics(CollectorRegistry()).registry)
    assert 'ixstream_orchestrator_session_failures_total{reason="streamer_exited"} 0.0' in text


def test_names_follow_prometheus_conventions_and_no_label_names_a_session() -> None:
    metrics = OrchestratorMetrics(CollectorRegistry())
    metrics.track_state(Snapshot)
    for family in metrics.registry.collect():
        assert family.name.startswith("ixstream_orchestrator_")
        if family.type == "histogram":
            assert family.name.endswith("_seconds")
        for sample in family.samples:
            assert not {"session", "session_id", "id", "streamer"} & set(sample.labels)
    counters = [f.name for f in metrics.registry.collect() if f.type == "counter"]
    assert counters  # prometheus_client strips `_total` from counter family names
