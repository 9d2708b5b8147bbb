"""`k8s/`: the plain manifests an operator can `kubectl apply`, checked against the real
Kubernetes schemas in strict mode, and for the properties the design requires: among
them the shared claims for the scenario library and the session records, mounted where
the orchestrator's settings point, and the library's seeding that never overwrites."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from orchestrator.backends.kubernetes.metrics import KubernetesMetrics
from orchestrator.metrics import OrchestratorMetrics
from tests.k8s.orchestrator_pod import (
    LIBRARY,
    RECORDS,
    container,
    mounts,
    orchestrator_pod,
    run_seed_script,
    settings_from_env,
    uses_no_clobber_copy,
)
from tests.k8s.validation import load_documents, validate_all

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"


def documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += load_documents(path.read_text())
    return docs


#: Kinds that live in no namespace.
CLUSTER_SCOPED = {"Namespace", "PriorityClass", "ClusterRole", "ClusterRoleBinding"}


def find(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name)


def test_every_manifest_is_valid_against_the_kubernetes_schema_in_strict_mode() -> None:
    names = validate_all(documents())
    for expected in (
        "Namespace/ixstream",
        "Deployment/ixstream-orchestrator",
        "Role/ixstream-orchestrator",
        "NetworkPolicy/ixstream-streamer",
        "Deployment/ixstream-coturn",
        "PodDisruptionBudget/ixstream-orchestrator",
        "ServiceMonitor/ixstream-orchestrator",
        "PodMonitor/ixstream-streamers",
        "PrometheusRule/ixstream",
        "PersistentVolumeClaim/ixstream-library",
        "PersistentVolumeClaim/ixstream-records",
        "PriorityClass/ixstream-placeholder",
        "Deployment/ixstream-placeholder",
        "DaemonSet/ixstream-prepull",
    ):
        assert expected in names


def test_everything_namespaced_lives_in_the_ixstream_namespace() -> None:
    for doc in documents():
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"]["namespace"] == "ixstream", doc["metadata"]["name"]


def test_the_role_grants_only_what_the_backend_calls_and_only_in_its_namespace() -> None:
    # One ClusterRole only, and it may list nodes and nothing else (cordoned nodes).
    (cluster_role,) = [d for d in documents() if d["kind"] == "ClusterRole"]
    assert cluster_role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]
    (binding,) = [d for d in documents() if d["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ixstream-orchestrator", "namespace": "ixstream"}
    ]
    rules = find("Role", "ixstream-orchestrator")["rules"]
    granted = {(r, v) for rule in rules for r in rule["resources"] for v in rule["verbs"]}
    assert granted <= {
        ("pods", v) for v in ("get", "list", "watch", "create", "patch", "delete")
    } | {("pods/log", "get")} | {
        ("secrets", v) for v in ("get", "list", "watch", "create", "patch", "delete")
    } | {("services", "create"), ("services", "delete")} | {
        ("leases", v) for v in ("get", "create", "update")
    }
    assert all("*" not in rule["verbs"] + rule["resources"] for rule in rules)


def test_the_orchestrator_runs_two_hardened_replicas_with_probes_and_limits() -> None:
    deployment = find("Deployment", "ixstream-orchestrator")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"requests", "limits"} <= set(container["resources"])
    secrets = [e for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})]
    assert {e["name"] for e in secrets} == {
        "IXS_ORCH_JWT_SECRET",
        "IXS_ORCH_ICE__TURN_SECRET",
        "IXS_ORCH_KUBERNETES__STREAMER_KEY_SEED",
    }
    assert not any("SECRET" in e["name"] and "value" in e for e in container["env"])


def test_the_orchestrator_keeps_its_library_and_records_on_shared_claims(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pod = orchestrator_pod(documents())
    mounted = mounts(pod, "orchestrator")
    for path, claim in ((LIBRARY, "ixstream-library"), (RECORDS, "ixstream-records")):
        assert mounted[path]["persistentVolumeClaim"]["claimName"] == claim
        assert find("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteMany"]
    settings = settings_from_env(container(pod, "orchestrator")["env"], monkeypatch)
    assert settings.scenario_dir == Path(LIBRARY)
    assert settings.aar_path == Path(RECORDS) / "aar"
    assert settings.recordings_path == Path(RECORDS) / "recordings"
    assert settings.aar_retention_days == 30


def test_the_library_is_seeded_by_a_hardened_init_container_that_never_overwrites(
    tmp_path: Path,
) -> None:
    pod = orchestrator_pod(documents())
    (init,) = pod["initContainers"]
    main = container(pod, "orchestrator")
    assert init["image"] == main["image"]
    assert init["securityContext"] == main["securityContext"]
    assert uses_no_clobber_copy(init["command"][-1])
    edited = tmp_path / "gas-leak-warehouse.yaml"
    edited.write_text("# edited in the instructor's console\n")
    run_seed_script(init, ROOT / "scenarios", tmp_path)
    assert edited.read_text() == "# edited in the instructor's console\n"
    assert (tmp_path / "traffic-stop-night.yaml").read_bytes() == (
        ROOT / "scenarios/traffic-stop-night.yaml"
    ).read_bytes()


def test_streamers_take_signalling_from_the_orchestrator_and_scrapes_from_prometheus() -> None:
    policy = find("NetworkPolicy", "ixstream-streamer")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "streamer"
    )
    tcp_rules = {
        p["port"]: r["from"]
        for r in policy["spec"]["ingress"]
        for p in r["ports"]
        if p["protocol"] == "TCP"
    }
    assert set(tcp_rules) == {8080, 9090}  # the main port, the metrics port: nothing else
    (source,) = tcp_rules[8080]
    assert source["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == ("orchestrator")
    (scraper,) = tcp_rules[9090]
    assert scraper["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
    assert "namespaceSelector" in scraper
    monitor = find("PodMonitor", "ixstream-streamers")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")


def test_streamers_serving_a_session_are_never_evicted_voluntarily() -> None:
    """Pods without a controller support only an integer minAvailable; at least the most
    sessions there can be, it allows no eviction of a pod that serves one."""
    budget = find("PodDisruptionBudget", "ixstream-streamer-in-session")
    assert "maxUnavailable" not in budget["spec"]
    env = {
        e["name"]: e.get("value")
        for e in find("Deployment", "ixstream-orchestrator")["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
    }
    assert budget["spec"]["minAvailable"] >= int(env["IXS_ORCH_MAX_SESSIONS"])
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert budget["spec"]["selector"]["matchLabels"]["ixstream.io/state"] == "bound"


def test_placeholders_sit_below_every_streamer_and_hold_a_gpu_each() -> None:
    priority = find("PriorityClass", "ixstream-placeholder")
    assert priority["value"] < 0
    pod = find("Deployment", "ixstream-placeholder")["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "ixstream-placeholder"
    assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "1"}


def _exported_metric_names() -> set[str]:
    registry = CollectorRegistry()
    OrchestratorMetrics(registry)
    KubernetesMetrics(registry)
    names = set()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    for family in registry.collect():
        names |= {family.name + suffix for suffix in ("", *suffixes.get(family.type, ()))}
    return names | {
        # Gauges computed at scrape time (OrchestratorMetrics.track_state).
        "ixstream_orchestrator_sessions",
        "ixstream_orchestrator_queue_length",
        "ixstream_orchestrator_warm_pool_streamers",
    }


def _metrics_in(text: str) -> set[str]:
    return set(re.findall(r"ixstream_orchestrator_[a-z_]+", text))


@pytest.mark.parametrize("source", ["monitoring.yaml", "dashboards/ixstream.json"])
def test_alerts_and_dashboards_use_only_metrics_the_code_exports(source: str) -> None:
    used = _metrics_in((K8S / source).read_text())
    assert used
    assert used <= _exported_metric_names(), used - _exported_metric_names()


def test_the_dashboard_is_grafana_json_and_the_chart_ships_the_same_one() -> None:
    dashboard = json.loads((K8S / "dashboards/ixstream.json").read_text())
    assert dashboard["uid"] == "ixstream-overview"
    assert all(panel["targets"] for panel in dashboard["panels"])
    shipped = ROOT / "helm/ixstream/files/ixstream-dashboard.json"
    assert shipped.read_text() == (K8S / "dashboards/ixstream.json").read_text()
