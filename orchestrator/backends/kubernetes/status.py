"""Reading a streamer pod: is it ready, still starting, waiting for a GPU, or done for,
and why. Pure functions of the pod object, so every case is a fixture test.

The Kubernetes signals used (pod-lifecycle.md; api-conventions.md, "Typical status
properties"):

- `Ready` condition True (readiness probe passed): the streamer takes WHEP offers;
- `PodScheduled=False` with reason `Unschedulable`: no node has a free GPU; the
  streamer waits (and its session stays pending) until one appears;
- the node lifecycle controller's `NodeLost` (pod `status.reason`, or the `Ready`
  condition's reason), kubelet eviction (`status.reason: Evicted`), a
  `DisruptionTarget` condition (taint manager, eviction API, preemption), a terminated
  container (exit code, with the signal for codes above 128, as kubelet reports a
  SIGKILL as 137), image pull and container config errors, and `deletionTimestamp`:
  the streamer is gone or going, with that reason;
- except the one config error that is part of starting: the backend creates the pod's
  key Secret right after the pod, so the kubelet may find it missing for a moment
  (`CreateContainerConfigError`, `secret "<pod>-key" not found`) and starts the
  container once it exists. That is `awaiting_key`, not a fate; a pod that waits for
  its key much longer (its creator died between the two creates) is `key_never_came`.
"""

from __future__ import annotations

import datetime as dt
import signal
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orchestrator.backends.kubernetes.manifests import key_secret_name
from orchestrator.sessions.states import FailureReason

Pod = dict[str, Any]


class Fate(StrEnum):
    """Why a streamer pod can no longer serve (a closed set; it labels logs and metrics)."""

    NODE_LOST = "node_lost"
    EVICTED = "evicted"
    DISRUPTED = "disrupted"
    CRASHED = "crashed"
    OOM_KILLED = "oom_killed"
    EXITED = "exited"
    IMAGE_PULL = "image_pull_failed"
    CONFIG_ERROR = "config_error"
    TERMINATING = "terminating"
    GONE = "gone"

    @property
    def failure_reason(self) -> FailureReason:
        """The orchestrator's session failure reason for this fate."""
        if self in (Fate.IMAGE_PULL, Fate.CONFIG_ERROR):
            return FailureReason.SPAWN_FAILED
        if self is Fate.NODE_LOST:
            return FailureReason.NODE_LOST
        if self is Fate.EVICTED:
            return FailureReason.EVICTED
        return FailureReason.STREAMER_EXITED


@dataclass(frozen=True, slots=True)
class PodFate:
    fate: Fate
    detail: str


#: Container waiting reasons that never resolve by themselves for our pods.
_FATAL_WAITING = {
    "ErrImagePull": Fate.IMAGE_PULL,
    "ImagePullBackOff": Fate.IMAGE_PULL,
    "InvalidImageName": Fate.IMAGE_PULL,
    "CreateContainerConfigError": Fate.CONFIG_ERROR,
    "CreateContainerError": Fate.CONFIG_ERROR,
}


def _conditions(pod: Pod) -> dict[str, dict[str, Any]]:
    return {c.get("type", ""): c for c in (pod.get("status") or {}).get("conditions") or []}


def is_ready(pod: Pod) -> bool:
    """Running, Ready, and not on its way out."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    ready = _conditions(pod).get("Ready", {})
    return status.get("phase") == "Running" and ready.get("status") == "True"


def unschedulable(pod: Pod) -> str | None:
    """The scheduler's message while no node fits the pod (e.g. all GPUs taken)."""
    scheduled = _conditions(pod).get("PodScheduled", {})
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return str(scheduled.get("message") or "Unschedulable")
    return None


def is_scheduled(pod: Pod) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def exit_detail(code: int) -> str:
    """`exited with code 137 (SIGKILL)`: signal deaths read as the kubelet reports them."""
    if code > 128:
        try:
            return f"exited with code {code} ({signal.Signals(code - 128).name})"
        except ValueError:
            pass
    return f"exited with code {code}"


def pod_fate(pod: Pod) -> PodFate | None:
    """Why this pod's streamer is gone or going, or None while it can still serve."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    conditions = _conditions(pod)
    node = (pod.get("spec") or {}).get("nodeName", "?")
    ready = conditions.get("Ready", {})
    if status.get("reason") == "NodeLost" or ready.get("reason") == "NodeLost":
        message = status.get("message") or ready.get("message") or "node unresponsive"
        return PodFate(Fate.NODE_LOST, f"pod {name} lost its node {node}: {message}")
    if status.get("reason") == "Evicted":
        return PodFate(Fate.EVICTED, f"pod {name} was evicted: {status.get('message', '')}")
    disruption = conditions.get("DisruptionTarget", {})
    if disruption.get("status") == "True":
        return PodFate(
            Fate.DISRUPTED,
            f"pod {name} is being removed ({disruption.get('reason')}): "
            f"{disruption.get('message', '')}",
        )
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        terminated = state.get("terminated")
        if terminated:
            code = int(terminated.get("exitCode", 0))
            reason = terminated.get("reason", "")
            fate = (
                Fate.OOM_KILLED
                if reason == "OOMKilled"
                else (Fate.EXITED if code == 0 else Fate.CRASHED)
            )
            extra = f" ({reason})" if reason and reason not in ("Error", "Completed") else ""
            return PodFate(fate, f"streamer {name} {exit_detail(code)}{extra}")
        waiting = (state.get("waiting") or {}).get("reason", "")
        if waiting in _FATAL_WAITING and not _waits_for_own_key(name, state):
            message = (state.get("waiting") or {}).get("message", "")
            return PodFate(_FATAL_WAITING[waiting], f"pod {name}: {waiting}: {message}")
    if status.get("phase") in ("Failed", "Succeeded"):
        return PodFate(
            Fate.CRASHED, f"pod {name} is {status['phase']}: {status.get('message', '')}"
        )
    if pod["metadata"].get("deletionTimestamp"):
        return PodFate(Fate.TERMINATING, f"pod {name} is being deleted")
    return None


def _waits_for_own_key(name: str, state: dict[str, Any]) -> bool:
    waiting = state.get("waiting") or {}
    return waiting.get("reason") == "CreateContainerConfigError" and (
        f'secret "{key_secret_name(name)}" not found' in str(waiting.get("message", ""))
    )


def awaiting_key(pod: Pod) -> bool:
    """The kubelet holds the container back until the pod's key Secret exists."""
    name = pod["metadata"]["name"]
    return any(
        _waits_for_own_key(name, c.get("state") or {})
        for c in (pod.get("status") or {}).get("containerStatuses") or []
    )


def key_never_came(pod: Pod, now: float, wait_s: float) -> bool:
    """Still awaiting its key `wait_s` after creation: the spawn that made it died
    between creating the pod and its Secret, and nobody else will create the Secret."""
    created = parse_time(pod["metadata"].get("creationTimestamp"))
    return awaiting_key(pod) and created is not None and now - created >= wait_s


def parse_time(value: str | None) -> float | None:
    """An RFC 3339 timestamp (`2026-01-02T03:04:05Z`) as unix seconds."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def ready_since(pod: Pod) -> float | None:
    ready = _conditions(pod).get("Ready", {})
    if ready.get("status") != "True":
        return None
    return parse_time(ready.get("lastTransitionTime"))
