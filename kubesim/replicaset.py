"""A ReplicaSet, reduced: keep `replicas` pods of one template in existence.

What the headroom placeholders need (`helm/ixstream/templates/headroom.yaml` is a
Deployment): a placeholder that is preempted or evicted comes back, Pending, so that
the cluster autoscaler sees it and adds a node. Each pod carries an owner reference to
the ReplicaSet (so the autoscaler's model treats it as movable, as it treats pods with
a controller) and a `generateName` from the set's name.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from kubesim import kinds
from kubesim.registry import Registry
from kubesim.store import Event

Obj = dict[str, Any]


class ReplicaSetModel:
    def __init__(
        self, registry: Registry, namespace: str, name: str, template: Obj, replicas: int
    ) -> None:
        self._registry = registry
        self._namespace = namespace
        self._name = name
        self._template = template
        self._uid = str(uuid.uuid4())
        self._owned: set[str] = set()
        self.replicas = replicas
        self.recreated = 0
        registry.store.subscribe(self._on_event)

    def reconcile(self) -> None:
        """Create pods until `replicas` exist (deleting surplus is not needed here)."""
        while len(self._owned) < self.replicas:
            self._create()

    def _create(self) -> None:
        pod = copy.deepcopy(self._template)
        meta = pod.setdefault("metadata", {})
        meta["generateName"] = f"{self._name}-"
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": self._name, "uid": self._uid}
        ]
        created = self._registry.create(kinds.PODS, self._namespace, pod)
        self._owned.add(created["metadata"]["name"])

    def _on_event(self, event: Event) -> None:
        if event.kind is not kinds.PODS or event.type != "DELETED":
            return
        name = event.obj["metadata"]["name"]
        if name in self._owned:
            self._owned.discard(name)
            self.recreated += 1
