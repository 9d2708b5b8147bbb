"""The pod, Secret and Service the backend writes: pure functions of settings, checked
against the real Kubernetes schema (`kubernetes-validate --strict`) and for what a GPU
render pod must have."""

from __future__ import annotations

import base64
import json
from typing import Any

import kubernetes_validate
import pytest

from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.backends.streamer_command import KEY_ENV
from tests.kubesim.harness import PROFILE

K8S_VERSION = "1.33.0"


def pod(**settings: Any) -> dict[str, Any]:
    return m.streamer_pod(
        KubernetesSettings(**settings),
        PROFILE,
        "s-0123abcd",
        name="ixstream-streamer-b7k2x",
        ice_servers_json="[]",
        streamer_id="0a1b2c3d4e" if settings.get("signalling") == "service" else None,
    )


def test_a_streamer_pod_is_valid_against_the_kubernetes_schema() -> None:
    manifest = pod(
        node_selector={"nvidia.com/gpu.product": "NVIDIA-L40S"},
        image_pull_secrets=["registry"],
        priority_class_name="interactive",
    )
    # the optional fields are written, so the strict schema checks them too
    spec = manifest["spec"]
    assert spec["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L40S"}
    assert spec["imagePullSecrets"] == [{"name": "registry"}]
    assert spec["priorityClassName"] == "interactive"
    # raises ValidationError on any unknown or mistyped field; returns the schema's release
    assert kubernetes_validate.validate(manifest, K8S_VERSION, strict=True) == "1.33"


def test_a_streamer_pod_requests_its_gpu_as_an_extended_resource_limit_equal_to_request() -> None:
    resources = pod(gpu_resource="nvidia.com/mig-1g.10gb", gpu_count=2)["spec"]["containers"][0][
        "resources"
    ]
    assert resources["limits"]["nvidia.com/mig-1g.10gb"] == "2"
    assert resources["requests"]["nvidia.com/mig-1g.10gb"] == "2"
    no_gpu = pod(gpu_resource="", gpu_count=0)["spec"]["containers"][0]["resources"]
    assert not any("nvidia" in k for k in {**no_gpu["requests"], **no_gpu["limits"]})


def test_scheduling_settings_reach_the_pod_spec() -> None:
    spec = pod(
        node_selector={"pool": "gpu"}, runtime_class_name="nvidia", node_lost_toleration_s=20
    )["spec"]
    assert spec["nodeSelector"] == {"pool": "gpu"}
    assert spec["runtimeClassName"] == "nvidia"
    assert spec["restartPolicy"] == "Never"
    unreachable = [t for t in spec["tolerations"] if t["key"] == "node.kubernetes.io/unreachable"]
    assert unreachable == [
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 20,
        }
    ]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"
    ]


def test_the_pod_is_hardened_and_holds_no_secret_in_its_spec() -> None:
    manifest = pod()
    spec, container = manifest["spec"], manifest["spec"]["containers"][0]
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    key_env = next(e for e in container["env"] if e["name"] == KEY_ENV)
    assert key_env["valueFrom"]["secretKeyRef"]["name"] == "ixstream-streamer-b7k2x-key"
    assert "value" not in key_env


def test_labels_say_what_the_pod_is_and_annotations_what_a_restart_needs() -> None:
    meta = pod()["metadata"]
    assert meta["name"] == "ixstream-streamer-b7k2x"
    assert meta["labels"][m.STATE] == m.BOUND
    assert meta["labels"][m.SESSION] == "s-0123abcd"
    assert meta["labels"][m.PROFILE] == m.profile_hash(PROFILE)
    assert json.loads(meta["annotations"][m.PROFILE_ANNOTATION]) == PROFILE.to_json()
    assert meta["annotations"][m.SESSION_ANNOTATION] == "s-0123abcd"
    warm = m.streamer_pod(KubernetesSettings(), PROFILE, None, name="p", ice_servers_json="[]")
    assert warm["metadata"]["labels"][m.STATE] == m.WARM
    assert m.SESSION not in warm["metadata"]["labels"]


def test_a_session_id_that_is_no_label_value_stays_in_the_annotation_only() -> None:
    labels = m.session_labels("-not_a/label-")
    assert labels == {m.STATE: m.BOUND}


def test_the_streamer_args_follow_the_streamer_contract() -> None:
    args = pod(ice_host_from_pod_ip=True, port=9000)["spec"]["containers"][0]["args"]
    assert args[:5] == ["stream", "--host", "$(POD_IP)", "--port", "9000"]
    assert args[args.index("--ice-host") + 1] == "$(POD_IP)"
    assert args[-2:] == ["--session-id", "s-0123abcd"]
    assert "--stereo" not in args


def test_metrics_have_a_named_port_of_their_own_that_the_probes_do_not_use() -> None:
    container = pod(port=9000, metrics_port=9100)["spec"]["containers"][0]
    assert container["ports"] == [
        {"name": "http", "containerPort": 9000, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9100, "protocol": "TCP"},
    ]
    args = container["args"]
    assert args[args.index("--metrics-port") + 1] == "9100"
    assert container["readinessProbe"]["httpGet"]["port"] == "http"
    assert container["livenessProbe"]["httpGet"]["port"] == "http"
    with pytest.raises(ValueError, match="must differ"):
        KubernetesSettings(port=9000, metrics_port=9000)


def test_host_network_mode_runs_in_the_nodes_network_namespace() -> None:
    spec = pod(host_network=True)["spec"]
    assert spec["hostNetwork"] is True
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    with pytest.raises(ValueError, match="host_network"):
        KubernetesSettings(host_network=True, signalling="service")


def test_pod_names_follow_generate_name_and_fit_a_dns_label() -> None:
    assert m.streamer_pod_name(KubernetesSettings(), "b7k2x") == "ixstream-streamer-b7k2x"
    long = m.streamer_pod_name(KubernetesSettings(instance="i" * 70), "b7k2x")
    assert len(long) == 63
    assert long.endswith("b7k2x")


def test_the_key_secret_and_per_pod_service_are_valid_and_owned_by_the_pod() -> None:
    created = {**pod(signalling="service")}
    created["metadata"] = {**created["metadata"], "uid": "u-1"}
    secret = m.key_secret(KubernetesSettings(), created, "k" * 43)
    kubernetes_validate.validate(secret, K8S_VERSION, strict=True)
    assert secret["metadata"]["name"] == "ixstream-streamer-b7k2x-key"
    assert base64.b64decode(secret["data"]["key"]).decode() == "k" * 43
    assert secret["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": "ixstream-streamer-b7k2x",
            "uid": "u-1",
            "blockOwnerDeletion": False,
        }
    ]
    service = m.streamer_service(KubernetesSettings(signalling="service"), created)
    kubernetes_validate.validate(service, K8S_VERSION, strict=True)
    assert service["spec"]["selector"] == {m.STREAMER_ID: "0a1b2c3d4e"}
    assert service["metadata"]["ownerReferences"][0]["uid"] == "u-1"


def test_a_claim_is_a_merge_patch_guarded_by_the_resource_version_read() -> None:
    patch = m.claim_patch("42", "s-1", claimed_by="orchestrator-0", claimed_at=1700000000.5)
    assert patch["metadata"]["resourceVersion"] == "42"
    assert patch["metadata"]["labels"] == {m.STATE: m.BOUND, m.SESSION: "s-1"}
    assert patch["metadata"]["annotations"][m.CLAIMED_BY_ANNOTATION] == "orchestrator-0"


def test_warm_pods_are_safe_to_evict_and_pods_born_for_a_session_are_not() -> None:
    settings = KubernetesSettings()
    warm = m.streamer_pod(settings, PROFILE, None, name="p-warm", ice_servers_json="[]")
    bound = m.streamer_pod(settings, PROFILE, "s-1", name="p-bound", ice_servers_json="[]")
    assert warm["metadata"]["annotations"][m.SAFE_TO_EVICT_ANNOTATION] == "true"
    assert bound["metadata"]["annotations"][m.SAFE_TO_EVICT_ANNOTATION] == "false"
    assert m.SAFE_TO_EVICT_ANNOTATION == "cluster-autoscaler.kubernetes.io/safe-to-evict"


def test_the_claim_patch_makes_the_pod_unsafe_to_evict_in_the_same_write() -> None:
    patch = m.claim_patch("42", "s-1", claimed_by="orchestrator-0", claimed_at=1.0)
    assert patch["metadata"]["annotations"][m.SAFE_TO_EVICT_ANNOTATION] == "false"
    assert patch["metadata"]["resourceVersion"] == "42"  # one compare-and-swap for both
