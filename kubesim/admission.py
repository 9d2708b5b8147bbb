"""Defaulting and validation on create and update, per kind (the API server's
"strategies" and admission plugins, reduced to what a pod-per-session workload meets).

What is real here because clients depend on it:

- names: DNS-1123 subdomains, or `generateName` (api-conventions.md, "Idempotency");
- labels and annotations: the syntax of labels.md / annotations.md (a session id that
  is not a valid label value must fail here, as it would on a cluster);
- pods: defaults (`restartPolicy`, `terminationGracePeriodSeconds`, the
  DefaultTolerationSeconds admission plugin's not-ready/unreachable tolerations);
  extended resources must be integers with requests equal to limits; the spec is
  immutable after creation except container images (422 otherwise); status is ignored
  on writes to the main resource (it has its own `status` subresource);
- services get a cluster IP, secrets turn `stringData` into base64 `data`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from typing import Any

from kubesim import kinds
from kubesim.errors import BadRequest, Invalid
from kubesim.kinds import Kind
from kubesim.quantity import parse
from kubesim.selectors import valid_label_key, valid_label_value

Obj = dict[str, Any]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_ANNOTATIONS_BYTES = 256 * 1024
DEFAULT_TOLERATION_SECONDS = 300
_IMMUTABLE_META = ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp")


def _metadata_problems(meta: Obj, *, creating: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    name = meta.get("name") or ""
    if creating and not name and not meta.get("generateName"):
        problems.append(("metadata.name", "Required value: name or generateName is required"))
    if name and (len(name) > 253 or not _SUBDOMAIN.match(name)):
        problems.append(
            ("metadata.name", f"Invalid value: {name!r}: a lowercase RFC 1123 subdomain")
        )
    generate = meta.get("generateName") or ""
    if generate and not _SUBDOMAIN.match(generate.rstrip("-.") or "x"):
        problems.append(("metadata.generateName", f"Invalid value: {generate!r}"))
    for key, value in (meta.get("labels") or {}).items():
        if not valid_label_key(key):
            problems.append(("metadata.labels", f"Invalid value: {key!r}: name part must be valid"))
        if not isinstance(value, str) or not valid_label_value(value):
            problems.append(
                (
                    "metadata.labels",
                    f"Invalid value: {value!r}: a valid label must be "
                    "63 characters or less, alphanumeric at both ends, '-', '_' or '.' inside",
                )
            )
    annotations = meta.get("annotations") or {}
    size = 0
    for key, value in annotations.items():
        if not valid_label_key(key):
            problems.append(("metadata.annotations", f"Invalid value: {key!r}"))
        if not isinstance(value, str):
            problems.append(("metadata.annotations", f"Invalid value: {key!r} must be a string"))
            continue
        size += len(key) + len(value)
    if size > MAX_ANNOTATIONS_BYTES:
        problems.append(("metadata.annotations", "Too long: must have at most 262144 bytes"))
    return problems


def _reject(kind: Kind, obj: Obj, problems: list[tuple[str, str]]) -> None:
    if problems:
        meta = obj.get("metadata", {})
        name = meta.get("name") or meta.get("generateName") or ""
        raise Invalid.fields(kind.kind, name, problems, kind.group)


# --- pods ------------------------------------------------------------------------------


def _container_problems(spec: Obj) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    containers = spec.get("containers") or []
    if not containers:
        problems.append(("spec.containers", "Required value"))
    names: set[str] = set()
    for i, container in enumerate(containers):
        path = f"spec.containers[{i}]"
        name = container.get("name", "")
        if not _LABEL.match(name or ""):
            problems.append((f"{path}.name", f"Invalid value: {name!r}: a DNS-1123 label"))
        if name in names:
            problems.append((f"{path}.name", f"Duplicate value: {name!r}"))
        names.add(name)
        if not container.get("image"):
            problems.append((f"{path}.image", "Required value"))
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        for resource in set(requests) | set(limits):
            for where, table in (("requests", requests), ("limits", limits)):
                if resource in table:
                    try:
                        parse(table[resource])
                    except ValueError as exc:
                        problems.append((f"{path}.resources.{where}[{resource}]", str(exc)))
            if _is_extended(resource):
                request, limit = requests.get(resource), limits.get(resource)
                if limit is None:
                    problems.append(
                        (
                            f"{path}.resources.limits[{resource}]",
                            "Required value: Limit must be set for non overcommitable resources",
                        )
                    )
                elif request is not None and str(request) != str(limit):
                    problems.append(
                        (
                            f"{path}.resources.requests[{resource}]",
                            "Invalid value: must be equal to " + resource + " limit",
                        )
                    )
                elif "." in str(limit) or str(limit).endswith("m"):
                    problems.append(
                        (
                            f"{path}.resources.limits[{resource}]",
                            "Invalid value: must be an integer",
                        )
                    )
    return problems


def _is_extended(resource: str) -> bool:
    """Extended resources are domain-prefixed and not in kubernetes.io (resource.go)."""
    return "/" in resource and not resource.split("/", 1)[0].endswith("kubernetes.io")


def _default_pod(obj: Obj) -> Obj:
    spec = copy.deepcopy(obj.get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("priority", 0)
    tolerations = spec.setdefault("tolerations", [])
    for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == taint for t in tolerations):
            # The DefaultTolerationSeconds admission plugin.
            tolerations.append(
                {
                    "key": taint,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    for container in spec.get("containers") or []:
        tag = container.get("image", "").rpartition(":")[2]
        always = "/" in tag or ":" not in container.get("image", "") or tag == "latest"
        container.setdefault("imagePullPolicy", "Always" if always else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        resources = container.setdefault("resources", {})
        limits = resources.get("limits") or {}
        if limits:
            # Requests default to limits where unset (resource defaulting in core/v1).
            requests = resources.setdefault("requests", {})
            for resource, value in limits.items():
                requests.setdefault(resource, value)
    qos = _qos_class(spec)
    return {**obj, "spec": spec, "status": {"phase": "Pending", "qosClass": qos}}


def _qos_class(spec: Obj) -> str:
    containers = spec.get("containers") or []
    requests_any = any((c.get("resources") or {}).get("requests") for c in containers)
    guaranteed = all(
        (c.get("resources") or {}).get("limits", {}).get(r) is not None
        and (c.get("resources") or {}).get("limits", {}).get(r)
        == (c.get("resources") or {}).get("requests", {}).get(r)
        for c in containers
        for r in ("cpu", "memory")
    )
    if containers and guaranteed:
        return "Guaranteed"
    return "Burstable" if requests_any else "BestEffort"


_MUTABLE_POD_SPEC = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds`"
)


def _comparable_pod_spec(spec: Obj) -> Obj:
    spec = copy.deepcopy(spec)
    for container in spec.get("containers") or []:
        container.pop("image", None)
    spec.pop("tolerations", None)
    spec.pop("activeDeadlineSeconds", None)
    return spec


# --- public entry points ------------------------------------------------------------


def prepare_create(kind: Kind, obj: Obj, namespace: str) -> Obj:
    """Validate and default `obj` for creation; raise `Invalid` (422) or `BadRequest`."""
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        raise BadRequest("the body must be an object with metadata")
    if obj.get("kind") not in (None, kind.kind):
        raise BadRequest(f"the kind in the body ({obj.get('kind')}) does not match {kind.kind}")
    body_ns = obj["metadata"].get("namespace")
    if kind.namespaced and body_ns not in (None, "", namespace):
        raise BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    meta = {
        k: v
        for k, v in obj["metadata"].items()
        if k not in ("resourceVersion", "uid", "deletionTimestamp")
    }
    obj = {**obj, "metadata": meta}
    problems = _metadata_problems(meta, creating=True)
    if kind is kinds.PODS:
        problems += _container_problems(obj.get("spec") or {})
        _reject(kind, obj, problems)
        return _default_pod(obj)
    _reject(kind, obj, problems)
    if kind is kinds.SECRETS:
        return _prepare_secret(kind, obj)
    if kind is kinds.NAMESPACES:
        return {**obj, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    if kind is kinds.SERVICES:
        spec = dict(obj.get("spec") or {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if not spec.get("ports"):
            _reject(kind, obj, [("spec.ports", "Required value")])
        return {**obj, "spec": spec, "status": {"loadBalancer": {}}}
    return obj


def _prepare_secret(kind: Kind, obj: Obj) -> Obj:
    data = dict(obj.get("data") or {})
    for key, value in data.items():
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError):
            _reject(kind, obj, [(f"data[{key}]", "Invalid value: not base64")])
    for key, value in (obj.get("stringData") or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    result = {k: v for k, v in obj.items() if k != "stringData"}
    result["data"] = data
    result.setdefault("type", "Opaque")
    return result


def prepare_update(kind: Kind, old: Obj, new: Obj, *, subresource: str | None = None) -> Obj:
    """Validate an update of `old` to `new`; keep what the caller may not change.

    A write to the main resource cannot change status, and a write to `status` can
    change only status (api-conventions.md, "Spec and Status").
    """
    if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
        raise BadRequest("the body must be an object with metadata")
    old_meta, new_meta = old["metadata"], dict(new["metadata"])
    for field in _IMMUTABLE_META:
        if field in ("name", "namespace") and new_meta.get(field) not in (
            None,
            old_meta.get(field),
        ):
            raise BadRequest(
                f"the {field} of the object ({new_meta.get(field)}) does not match "
                f"the {field} on the URL ({old_meta.get(field)})"
            )
        if field in old_meta:
            new_meta[field] = old_meta[field]
        else:
            new_meta.pop(field, None)
    for field in ("deletionGracePeriodSeconds", "generateName"):
        if field in old_meta:
            new_meta[field] = old_meta[field]
    if subresource == "status":
        result = {**old, "status": new.get("status", old.get("status"))}
        result["metadata"] = {**old_meta, "resourceVersion": new_meta.get("resourceVersion")}
        return result
    result = {**new, "metadata": new_meta, "apiVersion": old["apiVersion"], "kind": old["kind"]}
    if "status" in old:
        result["status"] = old["status"]
    problems = _metadata_problems(new_meta, creating=False)
    if kind is kinds.PODS:
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        # Patches share unchanged subtrees, so an untouched spec is the same object.
        changed = new_spec is not old_spec and new_spec != old_spec
        if changed and _comparable_pod_spec(old_spec) != _comparable_pod_spec(new_spec):
            problems.append(("spec", f"Forbidden: {_MUTABLE_POD_SPEC}"))
        old_tolerations = old_spec.get("tolerations") or []
        new_tolerations = new_spec.get("tolerations") or []
        if any(t not in new_tolerations for t in old_tolerations):
            problems.append(("spec.tolerations", f"Forbidden: {_MUTABLE_POD_SPEC}"))
    if kind is kinds.SECRETS:
        result = _prepare_secret(kind, result)
    _reject(kind, result, problems)
    return result
