"""Role-based access control as the API server applies it to one user, as pure functions.

A request becomes the attributes RBAC decides on, the way the API server's request-info
resolver derives them (apiserver `request.RequestInfoFactory`, rbac.md "Referring to
resources"): the verb from the HTTP method and the path (GET on an object → `get`, on
a collection → `list`, with `?watch=true` → `watch`; POST → `create`; PUT → `update`;
PATCH → `patch`; DELETE on an object → `delete`, on a collection →
`deletecollection`), the API group, the resource (with its subresource: `pods/log`),
the namespace and the object's name. A list or watch narrowed to one object by
`fieldSelector=metadata.name=NAME` carries that name, as on the real server; a create
never has one (the name is in the body, or generated), which is why `resourceNames`
cannot restrict `create`.

A rule of an `rbac.authorization.k8s.io/v1` Role allows a request when its
`apiGroups`, `resources` and `verbs` each contain the request's value or `*`
(`*/SUBRESOURCE` matches that subresource of any resource) and, if it has
`resourceNames`, the request names one of them (rbac/v1 `RuleAllows`). A Role's rules
apply in its own namespace only; a ClusterRole's, bound by a ClusterRoleBinding, apply
everywhere, cluster-scoped resources (nodes) included. A refusal is `403 Forbidden`
with the real server's message (`forbidden.go`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubesim.errors import Forbidden

Rule = Mapping[str, Any]
#: The user kubesim's requests act as when enforcing a Role without being told whom.
DEFAULT_USER = "system:serviceaccount:default:kubesim"


@dataclass(frozen=True, slots=True)
class RequestAttributes:
    """What RBAC decides a resource request on."""

    verb: str
    group: str
    resource: str
    subresource: str | None
    namespace: str | None
    name: str | None

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass(frozen=True, slots=True)
class Grant:
    """A Role's rules bound to one user (a Role plus its RoleBinding).

    `namespace`: the Role's namespace, the only one its rules apply in; None applies them
    everywhere, cluster scope included (a ClusterRole bound by a ClusterRoleBinding).
    """

    rules: tuple[Rule, ...]
    user: str = DEFAULT_USER
    namespace: str | None = None
    #: Rules of ClusterRoles bound to the same user by ClusterRoleBindings: everywhere.
    cluster_rules: tuple[Rule, ...] = ()


def verb_of(method: str, *, has_name: bool, watch: bool) -> str:
    """The RBAC verb of an HTTP request on a resource path."""
    if method == "GET":
        if watch:
            return "watch"
        return "get" if has_name else "list"
    if method == "DELETE":
        return "delete" if has_name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def name_from_field_selector(selector: str | None) -> str | None:
    """The object a list or watch is narrowed to by `metadata.name=NAME`, if any."""
    for term in (selector or "").split(","):
        key, equals, value = term.partition("=")
        if key.strip() == "metadata.name" and equals:
            return value.removeprefix("=").strip() or None  # `==` means `=`
    return None


def rule_allows(rule: Rule, request: RequestAttributes) -> bool:
    """rbac/v1 `RuleAllows` for a resource request."""
    verbs: Sequence[str] = rule.get("verbs") or ()
    groups: Sequence[str] = rule.get("apiGroups") or ()
    names: Sequence[str] = rule.get("resourceNames") or ()
    return (
        ("*" in verbs or request.verb in verbs)
        and ("*" in groups or request.group in groups)
        and _resource_matches(rule.get("resources") or (), request)
        and (not names or (request.name is not None and request.name in names))
    )


def _resource_matches(resources: Iterable[str], request: RequestAttributes) -> bool:
    for resource in resources:
        if resource in ("*", request.combined_resource):
            return True
        if request.subresource and resource == f"*/{request.subresource}":
            return True
    return False


def allows(grant: Grant, request: RequestAttributes) -> bool:
    """Whether the grant's user may make the request."""
    if any(rule_allows(rule, request) for rule in grant.cluster_rules):
        return True
    if grant.namespace is not None and request.namespace != grant.namespace:
        return False
    return any(rule_allows(rule, request) for rule in grant.rules)


def forbidden(user: str, request: RequestAttributes) -> Forbidden:
    """The API server's 403 for a refused request (apiserver `forbidden.go`)."""
    qualified = f"{request.resource}.{request.group}" if request.group else request.resource
    subject = f'{qualified} "{request.name}"' if request.name else qualified
    scope = (
        f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    )
    message = (
        f'{subject} is forbidden: User "{user}" cannot {request.verb} resource '
        f'"{request.combined_resource}" in API group "{request.group}" {scope}'
    )
    return Forbidden(message, kind=request.resource, name=request.name, group=request.group)


def grant_from_manifests(documents: Iterable[Mapping[str, Any]], role: str) -> Grant:
    """The grant a Role and the RoleBinding that binds it to a service account make,
    read from parsed manifests (such as `k8s/rbac.yaml`)."""
    docs = list(documents)
    found = next(
        (d for d in docs if d.get("kind") == "Role" and d["metadata"]["name"] == role), None
    )
    if found is None:
        raise ValueError(f"no Role {role!r} in the manifests")
    namespace = found["metadata"].get("namespace", "default")
    binding = next(
        (
            d
            for d in docs
            if d.get("kind") == "RoleBinding"
            and d["roleRef"].get("kind") == "Role"
            and d["roleRef"].get("name") == role
        ),
        None,
    )
    if binding is None:
        raise ValueError(f"no RoleBinding binds Role {role!r}")
    subject = next(s for s in binding["subjects"] if s.get("kind") == "ServiceAccount")
    account = (subject.get("namespace", namespace), subject["name"])
    user = f"system:serviceaccount:{account[0]}:{account[1]}"
    return Grant(tuple(found.get("rules") or ()), user, namespace, _cluster_rules(docs, account))


def _cluster_rules(docs: list[Mapping[str, Any]], account: tuple[str, str]) -> tuple[Rule, ...]:
    """The rules of every ClusterRole a ClusterRoleBinding binds to the service account."""
    bound = {
        d["roleRef"]["name"]
        for d in docs
        if d.get("kind") == "ClusterRoleBinding"
        and d["roleRef"].get("kind") == "ClusterRole"
        and any(
            s.get("kind") == "ServiceAccount" and (s.get("namespace"), s.get("name")) == account
            for s in d.get("subjects") or ()
        )
    }
    return tuple(
        rule
        for d in docs
        if d.get("kind") == "ClusterRole" and d["metadata"]["name"] in bound
        for rule in d.get("rules") or ()
    )
