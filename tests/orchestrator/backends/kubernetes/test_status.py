"""Reading a pod's status as a streamer's fate: fixtures of what a real cluster writes."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.backends.kubernetes.status import (
    Fate,
    awaiting_key,
    exit_detail,
    is_ready,
    key_never_came,
    parse_time,
    pod_fate,
    unschedulable,
)
from orchestrator.sessions.states import FailureReason


def pod(status: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", **meta}, "spec": {"nodeName": "n1"}, "status": status}


READY = pod(
    {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "c", "state": {"running": {}}}],
    }
)


def test_a_running_ready_pod_can_serve() -> None:
    assert is_ready(READY)
    assert pod_fate(READY) is None


def test_a_terminating_pod_is_not_ready_and_is_going() -> None:
    going = {**READY, "metadata": {"name": "p", "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert not is_ready(going)
    fate = pod_fate(going)
    assert fate is not None
    assert fate.fate is Fate.TERMINATING


def test_an_unschedulable_pod_is_waiting_not_failed() -> None:
    waiting = pod(
        {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.",
                }
            ],
        }
    )
    assert unschedulable(waiting) == "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."
    assert pod_fate(waiting) is None


@pytest.mark.parametrize(
    ("status", "fate", "words"),
    [
        (
            {
                "phase": "Running",
                "reason": "NodeLost",
                "message": "Node n1 which was running pod p is unresponsive",
            },
            Fate.NODE_LOST,
            "lost its node n1",
        ),
        (
            {
                "phase": "Failed",
                "reason": "Evicted",
                "message": "The node was low on resource: memory.",
            },
            Fate.EVICTED,
            "low on resource",
        ),
        (
            {
                "phase": "Running",
                "conditions": [
                    {
                        "type": "DisruptionTarget",
                        "status": "True",
                        "reason": "PreemptionByScheduler",
                    }
                ],
            },
            Fate.DISRUPTED,
            "PreemptionByScheduler",
        ),
        (
            {
                "phase": "Failed",
                "containerStatuses": [
                    {"state": {"terminated": {"exitCode": 137, "reason": "Error"}}}
                ],
            },
            Fate.CRASHED,
            "code 137 (SIGKILL)",
        ),
        (
            {
                "phase": "Failed",
                "containerStatuses": [
                    {"state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}
                ],
            },
            Fate.OOM_KILLED,
            "(OOMKilled)",
        ),
        (
            {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "state": {
                            "waiting": {"reason": "ImagePullBackOff", "message": "manifest unknown"}
                        }
                    }
                ],
            },
            Fate.IMAGE_PULL,
            "manifest unknown",
        ),
        (
            {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "state": {
                            "waiting": {
                                "reason": "CreateContainerConfigError",
                                "message": 'secret "k" not found',
                            }
                        }
                    }
                ],
            },
            Fate.CONFIG_ERROR,
            "not found",
        ),
    ],
)
def test_every_way_a_pod_stops_serving_has_a_fate_and_a_detail(
    status: dict[str, Any], fate: Fate, words: str
) -> None:
    found = pod_fate(pod(status))
    assert found is not None
    assert found.fate is fate
    assert words in found.detail


def test_fates_map_onto_the_orchestrators_failure_reasons() -> None:
    assert Fate.NODE_LOST.failure_reason is FailureReason.NODE_LOST
    assert Fate.EVICTED.failure_reason is FailureReason.EVICTED
    assert Fate.CRASHED.failure_reason is FailureReason.STREAMER_EXITED
    assert Fate.IMAGE_PULL.failure_reason is FailureReason.SPAWN_FAILED


def test_exit_codes_above_128_name_their_signal() -> None:
    assert exit_detail(143) == "exited with code 143 (SIGTERM)"
    assert exit_detail(2) == "exited with code 2"


def _config_error(message: str) -> dict[str, Any]:
    waiting = {"reason": "CreateContainerConfigError", "message": message}
    return pod(
        {"phase": "Pending", "containerStatuses": [{"state": {"waiting": waiting}}]},
        creationTimestamp="2026-01-01T00:00:00Z",
    )


def test_a_pod_whose_own_key_secret_is_not_there_yet_is_starting_not_failed() -> None:
    waiting = _config_error('secret "p-key" not found')
    assert awaiting_key(waiting)
    assert pod_fate(waiting) is None
    other = _config_error('secret "p-tls" not found')
    assert not awaiting_key(other)
    assert pod_fate(other) is not None


def test_a_pod_still_waiting_for_its_key_long_after_creation_never_gets_it() -> None:
    waiting = _config_error('secret "p-key" not found')
    created = parse_time("2026-01-01T00:00:00Z")
    assert created is not None
    assert not key_never_came(waiting, created + 59, wait_s=60)
    assert key_never_came(waiting, created + 60, wait_s=60)
    assert not key_never_came(READY, created + 600, wait_s=60)
