"""The chart's part in cluster autoscaling and node drains (issue 13): headroom
placeholders (a negative PriorityClass, one GPU each, on the streamers' nodes), the
image pre-pull DaemonSet on GPU nodes, and an in-session PodDisruptionBudget of the
kind Kubernetes supports for pods without a controller (integer `minAvailable`).
Everything rendered is also checked strictly against the Kubernetes schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.k8s.chart import rendered
from tests.k8s.validation import validate_all


def _find(docs: list[dict[str, Any]], kind: str, suffix: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix))


def test_placeholders_hold_one_streamer_gpu_each_below_every_streamer(helm: Path) -> None:
    docs = rendered(
        helm,
        "headroom.enabled=true",
        "headroom.replicas=3",
        "streamer.nodeSelector.pool=gpu",
    )
    validate_all(docs)
    priority = _find(docs, "PriorityClass", "-placeholder")
    assert priority["value"] == -10  # the autoscaler's expendable cut-off: still counted
    assert priority["preemptionPolicy"] == "Never"
    assert priority["globalDefault"] is False
    deployment = _find(docs, "Deployment", "-placeholder")
    assert deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == priority["metadata"]["name"]
    assert pod["nodeSelector"] == {"pool": "gpu"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    (container,) = pod["containers"]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "1"}
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "1"


def test_no_placeholder_is_rendered_unless_asked(helm: Path) -> None:
    kinds = {d["kind"] for d in rendered(helm)}
    assert "PriorityClass" not in kinds


def test_the_streamer_image_is_pre_pulled_on_gpu_nodes_without_taking_a_gpu(helm: Path) -> None:
    docs = rendered(helm, "streamer.image.tag=9.9.9", "streamer.nodeSelector.pool=gpu")
    daemonset = _find(docs, "DaemonSet", "-prepull")
    pod = daemonset["spec"]["template"]["spec"]
    (pull,) = pod["initContainers"]
    assert pull["image"] == "ghcr.io/ixstream/streamer:9.9.9"
    assert pod["nodeSelector"] == {"pool": "gpu"}
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
    for container in (*pod["initContainers"], *pod["containers"]):
        resources = container["resources"]
        assert not any("nvidia" in k for k in {**resources["requests"], **resources["limits"]})
    own = rendered(helm, "prePull.nodeSelector.gpu=yes")
    assert _find(own, "DaemonSet", "-prepull")["spec"]["template"]["spec"]["nodeSelector"] == {
        "gpu": "yes"
    }
    assert "DaemonSet" not in {d["kind"] for d in rendered(helm, "prePull.enabled=false")}


def test_the_in_session_budget_uses_an_integer_min_available_that_allows_no_eviction(
    helm: Path,
) -> None:
    docs = rendered(helm, "orchestrator.maxSessions=40")
    budget = _find(docs, "PodDisruptionBudget", "-streamer-in-session")
    spec = budget["spec"]
    assert "maxUnavailable" not in spec  # not supported for pods without a controller
    assert spec["minAvailable"] == 40  # an integer, never a percentage, >= every session
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert spec["selector"]["matchLabels"]["ixstream.io/state"] == "bound"
