"""Pod status building blocks shared by the scheduler, the kubelet and the node controller.

Pod conditions follow pod-lifecycle.md ("Pod conditions"): `PodScheduled`,
`Initialized`, `ContainersReady`, `Ready`, and `DisruptionTarget` when a pod is about to
be removed by eviction or by the taint manager. A condition's `lastTransitionTime`
moves only when its status changes.
"""

from __future__ import annotations

from typing import Any

from kubesim.store import now_rfc3339

Obj = dict[str, Any]


def with_condition(
    status: Obj, kind: str, value: bool, reason: str | None = None, message: str | None = None
) -> Obj:
    """`status` with condition `kind` set; a new dict, `status` is left untouched."""
    conditions = list(status.get("conditions") or [])
    text = "True" if value else "False"
    new: Obj = {"type": kind, "status": text, "lastProbeTime": None}
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    for i, old in enumerate(conditions):
        if old.get("type") == kind:
            same = old.get("status") == text
            new["lastTransitionTime"] = old.get("lastTransitionTime") if same else now_rfc3339()
            conditions[i] = new
            break
    else:
        new["lastTransitionTime"] = now_rfc3339()
        conditions.append(new)
    return {**status, "conditions": conditions}


def condition(status: Obj, kind: str) -> Obj | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def with_status(pod: Obj, status: Obj) -> Obj:
    return {**pod, "status": status}
