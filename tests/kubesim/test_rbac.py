"""The simulator enforces a Role as the API server does: each request maps to a verb,
API group, resource (and subresource) and name; a rule allows it, or the answer is a
`403 Forbidden` Status with the real server's message. `resourceNames` restrict by
name and so never match a create or an unnarrowed list. The simulator's own `/_sim/`
operations stay open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubesim.rbac import Grant, RequestAttributes, allows, grant_from_manifests, rule_allows
from kubesim.serve import RunningSimulator, running_simulator
from tests.kubesim.harness import NAMESPACE, RBAC_MANIFESTS, admin, cluster

USER = "system:serviceaccount:ixstream:ixstream-orchestrator"
RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["*/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": ["ours"],
        "verbs": ["get", "update", "create"],
    },
)
GRANT = Grant(RULES, USER, NAMESPACE)
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
SECRETS = f"/api/v1/namespaces/{NAMESPACE}/secrets"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases"


def request(verb: str, resource: str, name: str | None = None, **kw: Any) -> RequestAttributes:
    group = kw.get("group", "coordination.k8s.io" if resource == "leases" else "")
    return RequestAttributes(
        verb, group, resource, kw.get("subresource"), kw.get("namespace", NAMESPACE), name
    )


def test_resource_names_restrict_get_and_update_but_never_match_create_or_list() -> None:
    leases = RULES[3]
    assert rule_allows(leases, request("get", "leases", "ours"))
    assert rule_allows(leases, request("update", "leases", "ours"))
    assert not rule_allows(leases, request("get", "leases", "theirs"))
    assert not rule_allows(leases, request("create", "leases"))  # a create has no name
    assert not rule_allows({**leases, "verbs": ["list"]}, request("list", "leases"))


def test_a_subresource_needs_its_own_rule_or_a_star_slash_rule() -> None:
    assert allows(GRANT, request("get", "pods", "p", subresource="log"))
    assert not allows(GRANT, request("get", "pods", "p", subresource="status"))
    assert not allows(GRANT, request("patch", "pods", "p"))


def test_a_role_grants_nothing_outside_its_namespace() -> None:
    assert not allows(GRANT, request("list", "pods", namespace="kube-system"))
    assert not allows(GRANT, request("list", "nodes", namespace=None))


def test_the_shipped_role_is_read_with_the_service_account_it_is_bound_to() -> None:
    documents = [d for d in yaml.safe_load_all(RBAC_MANIFESTS.read_text()) if d]
    grant = grant_from_manifests(documents, "ixstream-orchestrator")
    assert (grant.user, grant.namespace) == (USER, NAMESPACE)
    assert grant.rules


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[RunningSimulator]:
    async with running_simulator(cluster(nodes=1), tmp_path / "kubeconfig", grant=GRANT) as s:
        yield s


@pytest.fixture
async def http(sim: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with httpx.AsyncClient(base_url=sim.url, headers=headers, trust_env=False) as c:
        yield c


async def test_allowed_requests_go_through(http: httpx.AsyncClient) -> None:
    assert (await http.get(PODS)).status_code == 200
    watch = await http.get(PODS, params={"watch": "true", "timeoutSeconds": "1"})
    assert watch.status_code == 200
    secret = {"metadata": {"name": "k"}, "stringData": {"key": "v"}}
    assert (await http.post(SECRETS, json=secret)).status_code == 201
    assert (await http.get(f"{LEASES}/ours")).status_code == 404  # allowed, and absent


async def test_a_refused_list_is_a_403_status_with_the_api_servers_message(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.get(SECRETS)
    assert answer.status_code == 403
    status = answer.json()
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Forbidden", 403)
    assert status["message"] == (
        f'secrets is forbidden: User "{USER}" cannot list resource "secrets" in API group "" '
        f'in the namespace "{NAMESPACE}"'
    )


@pytest.mark.parametrize(
    ("method", "path", "verb", "subject"),
    [
        ("GET", f"{SECRETS}/k", "get", 'secrets "k"'),
        ("GET", f"{SECRETS}?watch=true", "watch", "secrets"),
        ("PATCH", f"{PODS}/p", "patch", 'pods "p"'),
        ("PUT", f"{PODS}/p", "update", 'pods "p"'),
        ("DELETE", f"{PODS}/p", "delete", 'pods "p"'),
        ("DELETE", PODS, "deletecollection", "pods"),
        ("GET", f"{LEASES}/theirs", "get", 'leases.coordination.k8s.io "theirs"'),
        ("POST", LEASES, "create", "leases.coordination.k8s.io"),
    ],
)
async def test_each_verb_is_refused_unless_a_rule_allows_it(
    http: httpx.AsyncClient, method: str, path: str, verb: str, subject: str
) -> None:
    answer = await http.request(method, path, json={"metadata": {"name": "x"}})
    assert answer.status_code == 403
    assert answer.json()["message"].startswith(f'{subject} is forbidden: User "{USER}" ')
    assert f"cannot {verb} resource" in answer.json()["message"]


async def test_the_simulators_own_operations_stay_open(sim: RunningSimulator) -> None:
    assert (await admin(sim, "nodes", {"count": 1}))["names"]
