"""The kinds the simulator serves, with where they live in the API.

Each is addressed as the real API server addresses it (api-concepts.md, "Resource
URIs"): core kinds under `/api/v1`, grouped ones under `/apis/GROUP/VERSION`,
namespaced ones under `.../namespaces/NS/PLURAL`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubesim.selectors import COMMON_FIELDS, POD_FIELDS, FieldGetter


@dataclass(frozen=True, slots=True, eq=False)  # one instance per kind: identity is equality
class Kind:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    field_selectors: Mapping[str, FieldGetter] = field(default_factory=lambda: COMMON_FIELDS)
    subresources: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


PODS = Kind("", "v1", "pods", "Pod", True, POD_FIELDS, frozenset({"status", "eviction", "log"}))
SERVICES = Kind("", "v1", "services", "Service", True, subresources=frozenset({"status"}))
SECRETS = Kind("", "v1", "secrets", "Secret", True)
CONFIGMAPS = Kind("", "v1", "configmaps", "ConfigMap", True)
EVENTS = Kind("", "v1", "events", "Event", True)
#: `kubectl get nodes --field-selector spec.unschedulable=true`: cordoned nodes.
NODE_FIELDS: dict[str, FieldGetter] = {
    **COMMON_FIELDS,
    "spec.unschedulable": lambda o: str(bool((o.get("spec") or {}).get("unschedulable"))).lower(),
}
NODES = Kind("", "v1", "nodes", "Node", False, NODE_FIELDS, frozenset({"status"}))
NAMESPACES = Kind("", "v1", "namespaces", "Namespace", False, subresources=frozenset({"status"}))
LEASES = Kind("coordination.k8s.io", "v1", "leases", "Lease", True)
PODDISRUPTIONBUDGETS = Kind(
    "policy",
    "v1",
    "poddisruptionbudgets",
    "PodDisruptionBudget",
    True,
    subresources=frozenset({"status"}),
)

ALL: tuple[Kind, ...] = (
    PODS,
    SERVICES,
    SECRETS,
    CONFIGMAPS,
    EVENTS,
    NODES,
    NAMESPACES,
    LEASES,
    PODDISRUPTIONBUDGETS,
)
BY_PATH: dict[tuple[str, str, str], Kind] = {(k.group, k.version, k.plural): k for k in ALL}
