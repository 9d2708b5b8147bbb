"""Least privilege, checked on what we ship: every Role and ClusterRole the chart renders
(defaults and everything on) and every one in `k8s/` grants no wildcard (`*` in
apiGroups, resources or verbs) and no way to read or change a Secret (get, list, watch,
patch, update). The orchestrator only creates Secrets: streamer keys are derived, never
read back. The warm pool's Lease may be read and updated by name only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.k8s.chart import rendered
from tests.k8s.test_helm_chart import EVERYTHING_ON
from tests.k8s.test_plain_manifests import documents

ROLE_KINDS = ("Role", "ClusterRole")
SECRET_VERBS_FORBIDDEN = frozenset({"get", "list", "watch", "patch", "update"})


def rule_problems(rule: dict[str, Any]) -> list[str]:
    """What is wrong with one policy rule, by our least-privilege standard."""
    problems = [
        f"`*` in {field}"
        for field in ("apiGroups", "resources", "verbs")
        if "*" in rule.get(field, [])
    ]
    if "" in rule.get("apiGroups", []) and "secrets" in rule.get("resources", []):
        reading = sorted(SECRET_VERBS_FORBIDDEN & set(rule.get("verbs", [])))
        if reading:
            problems.append(f"secrets may be {', '.join(reading)}")
    return problems


def role_problems(docs: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """`Kind/name` → problems, for every Role and ClusterRole with any."""
    found = {}
    for doc in docs:
        if doc.get("kind") in ROLE_KINDS:
            problems = [p for rule in doc.get("rules") or [] for p in rule_problems(rule)]
            if problems:
                found[f"{doc['kind']}/{doc['metadata']['name']}"] = problems
    return found


def roles(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") in ROLE_KINDS]


def test_the_check_catches_the_rules_the_orchestrator_used_to_have() -> None:
    old = {
        "kind": "Role",
        "metadata": {"name": "old"},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "verbs": ["get", "list", "watch", "create", "patch", "delete"],
            },
            {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["*"]},
        ],
    }
    assert role_problems([old]) == {
        "Role/old": ["secrets may be get, list, patch, watch", "`*` in apiGroups", "`*` in verbs"]
    }


@pytest.mark.parametrize("settings", [[], EVERYTHING_ON], ids=["defaults", "everything-on"])
def test_no_role_the_chart_renders_has_wildcards_or_reads_secrets(
    helm: Path, settings: list[str]
) -> None:
    docs = rendered(helm, *settings)
    assert roles(docs), "the chart renders no Role"
    assert role_problems(docs) == {}


def test_no_role_in_the_plain_manifests_has_wildcards_or_reads_secrets() -> None:
    assert roles(documents()), "k8s/ has no Role"
    assert role_problems(documents()) == {}


def _lease_rules(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        rule
        for role in roles(docs)
        for rule in role["rules"]
        if "coordination.k8s.io" in rule["apiGroups"]
    ]


def test_the_lease_is_read_and_renewed_by_name_and_only_created_without_one(helm: Path) -> None:
    for docs, lease in ((rendered(helm), "ixs-warm-pool"), (documents(), "ixstream-warm-pool")):
        by_verbs = {tuple(sorted(r["verbs"])): r.get("resourceNames") for r in _lease_rules(docs)}
        assert by_verbs == {("get", "update"): [lease], ("create",): None}


def test_the_chart_generates_a_streamer_key_seed_and_hands_it_to_the_orchestrator(
    helm: Path,
) -> None:
    docs = rendered(helm)
    secret = next(
        d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "ixs-secrets"
    )
    assert len(secret["data"]["streamer-key-seed"]) == 64  # 48 characters, base64
    deployment = next(
        d for d in docs if d["metadata"]["name"] == "ixs-orchestrator" and d["kind"] == "Deployment"
    )
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    ref = env["IXS_ORCH_KUBERNETES__STREAMER_KEY_SEED"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "ixs-secrets", "key": "streamer-key-seed"}
