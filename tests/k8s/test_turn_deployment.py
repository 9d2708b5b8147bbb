"""TURN an operator can run (issue 13), in the chart and the plain manifests: TURN over
TLS on 443 with a certificate from a named Secret, several replicas on different nodes,
the credentials' lifetime from values, and the orchestrator handing out exactly the
URIs coturn listens on. Every rendered object is validated strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.chart import render, rendered, schema_complaint_about_an_extra_key, schema_rejects
from tests.k8s.orchestrator_pod import ROOT, container, orchestrator_pod, settings_from_env
from tests.k8s.validation import validate_all

TLS_ON = ["turn.tls.enabled=true", "turn.tls.secretName=turn-tls", "turn.replicas=3"]


def coturn(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-coturn")
    )
    return found


def check_tls_on_443(deployment: dict[str, Any], secret: str) -> None:
    pod = deployment["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    args = server["args"]
    assert "--tls-listening-port=443" in args
    assert {"--cert=/etc/coturn/tls/tls.crt", "--pkey=/etc/coturn/tls/tls.key"} <= set(args)
    assert "--no-tls" not in args
    assert {"containerPort": 443, "protocol": "TCP", "name": "turns-tcp"} in server["ports"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == secret
    assert {"name": "tls", "mountPath": "/etc/coturn/tls", "readOnly": True} in server[
        "volumeMounts"
    ]
    # 443 as a non-root user: the image's file capability, and nothing more.
    assert server["securityContext"]["capabilities"] == {
        "drop": ["ALL"],
        "add": ["NET_BIND_SERVICE"],
    }
    assert pod["securityContext"]["runAsNonRoot"] is True


def check_one_replica_per_node(deployment: dict[str, Any]) -> None:
    pod = deployment["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    (term,) = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert term["labelSelector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}


def test_the_chart_serves_turns_on_443_from_replicas_on_different_nodes(
    helm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered(helm, *TLS_ON, "turn.credentialTtlSeconds=7200")
    validate_all(docs)
    deployment = coturn(docs)
    assert deployment["spec"]["replicas"] == 3
    check_tls_on_443(deployment, "turn-tls")
    check_one_replica_per_node(deployment)
    ice = settings_from_env(
        container(orchestrator_pod(docs), "orchestrator")["env"], monkeypatch
    ).ice
    assert ice.turn_uris == [
        "turn:turn.example.org:3478?transport=udp",
        "turn:turn.example.org:3478?transport=tcp",
        "turns:turn.example.org:443?transport=tcp",
    ]
    assert ice.turn_ttl_s == 7200
    assert ice.turn_secret is not None


def test_without_tls_coturn_opens_no_tls_listener_and_keeps_every_capability_dropped(
    helm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered(helm)
    (server,) = coturn(docs)["spec"]["template"]["spec"]["containers"]
    assert {"--no-tls", "--no-dtls"} <= set(server["args"])
    assert server["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert server["securityContext"]["allowPrivilegeEscalation"] is False
    ice = settings_from_env(
        container(orchestrator_pod(docs), "orchestrator")["env"], monkeypatch
    ).ice
    assert not any(uri.startswith("turns:") for uri in ice.turn_uris)


def test_tls_without_a_certificate_secret_is_refused_with_the_reason(helm: Path) -> None:
    refused = render(helm, "turn.tls.enabled=true", check=False)
    assert refused.returncode != 0
    assert "turn.tls.enabled needs turn.tls.secretName" in refused.stderr


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("turn", "replicas"), 0),
        (("turn", "tls", "port"), 0),
        (("turn", "credentialTtlSeconds"), 30 * 24 * 3600),
        (("turn", "tls", "enabled"), "yes"),
    ],
)
def test_the_schema_rejects_bad_turn_values(path: tuple[str, ...], value: object) -> None:
    assert schema_rejects(path, value)


def test_the_schema_rejects_unknown_tls_keys() -> None:
    complaint = schema_complaint_about_an_extra_key(("turn", "tls"))
    assert complaint is not None
    assert "Additional properties" in complaint


def test_the_plain_manifests_run_two_tls_replicas_and_hand_out_their_uris(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = [d for d in yaml.safe_load_all((ROOT / "k8s" / "coturn.yaml").read_text()) if d]
    validate_all(docs)
    deployment = coturn(docs)
    assert deployment["spec"]["replicas"] == 2
    check_tls_on_443(deployment, "ixstream-turn-tls")
    check_one_replica_per_node(deployment)
    orchestrator = [
        d for d in yaml.safe_load_all((ROOT / "k8s" / "orchestrator.yaml").read_text()) if d
    ]
    env = container(orchestrator_pod(orchestrator), "orchestrator")["env"]
    ice = settings_from_env(env, monkeypatch).ice
    assert "turns:turn.example.org:443?transport=tcp" in ice.turn_uris
    assert ice.turn_ttl_s == 21600
