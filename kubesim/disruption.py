"""Whether the Eviction API may evict a pod: PodDisruptionBudgets, as the API server's
eviction handler checks them (disruptions.md; pkg/registry/core/pod/storage/eviction.go).

Each budget in the pod's namespace whose selector matches the pod counts the healthy
(Ready) pods it selects; disruptions allowed = healthy - `minAvailable` (an integer:
the only form allowed for pods without a controller, "Arbitrary workloads and arbitrary
selectors"), or `maxUnavailable` - unhealthy for workloads with a known scale. An
eviction that would leave less than zero is refused with 429 and the server's message,
and `kubectl drain` retries it. A pod that is not Ready is evictable whatever the
budget when the budget says `unhealthyPodEvictionPolicy: AlwaysAllow`.

`maxUnavailable` on pods without a controller needs the scale of their controller to
mean anything; the real server then answers 500 ("does not implement the scale
subresource"); here such a budget refuses every eviction of a pod it selects, which is
what it did to drains in practice: blocked forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubesim.selectors import selector_from_match_labels

Obj = dict[str, Any]
REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."


def _ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _selects(budget: Obj, pod: Obj) -> bool:
    selector = (budget.get("spec") or {}).get("selector") or {}
    if selector.get("matchExpressions"):
        return False  # not modelled: no budget we ship uses them
    labels = pod["metadata"].get("labels") or {}
    return selector_from_match_labels(selector.get("matchLabels") or {}).matches(labels)


def eviction_refusal(pod: Obj, budgets: Iterable[Obj], pods: Iterable[Obj]) -> str | None:
    """Why evicting `pod` is refused (the 429's message), or None if it may go."""
    namespace = pod["metadata"].get("namespace")
    siblings = [p for p in pods if p["metadata"].get("namespace") == namespace]
    for budget in budgets:
        if budget["metadata"].get("namespace") != namespace or not _selects(budget, pod):
            continue
        spec = budget.get("spec") or {}
        if not _ready(pod) and spec.get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
            continue
        selected = [p for p in siblings if _selects(budget, p)]
        healthy = sum(1 for p in selected if _ready(p))
        minimum = spec.get("minAvailable")
        # maxUnavailable or a percentage: no controller's scale to compute them from.
        allowed = healthy - minimum if isinstance(minimum, int) else 0
        # A healthy pod's eviction uses up one allowed disruption; an unhealthy one's none.
        if allowed < (1 if _ready(pod) else 0):
            name = budget["metadata"]["name"]
            return f"{REFUSED} The disruption budget {name} needs {minimum} healthy pods"
    return None
