"""Validation of Kubernetes documents against real schemas, for the manifest tests.

Built-in kinds go through `kubernetes-validate` in strict mode (the OpenAPI schemas of
the Kubernetes release, unknown fields rejected), for the oldest release the chart
supports and a current one. The Prometheus Operator's kinds (ServiceMonitor,
PrometheusRule) are custom resources that kubernetes-validate does not know: they are
checked against the small strict JSON Schemas in `schemas/`, written from the operator's
CRD definitions for the fields this project uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

SCHEMAS = Path(__file__).parent / "schemas"
KUBERNETES_VERSIONS = ("1.28.0", "1.33.0")
CUSTOM_GROUPS = ("monitoring.coreos.com/",)


def load_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _custom_schema(doc: dict[str, Any]) -> dict[str, Any]:
    group_version = doc["apiVersion"].replace("/", "-")
    path = SCHEMAS / f"{doc['kind'].lower()}-{group_version}.json"
    if not path.exists():
        raise AssertionError(f"no schema for custom resource {doc['kind']} {doc['apiVersion']}")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def validate(doc: dict[str, Any]) -> None:
    """Raise if `doc` is not a valid object of its kind."""
    if doc["apiVersion"].startswith(CUSTOM_GROUPS):
        jsonschema.Draft7Validator(_custom_schema(doc)).validate(doc)
        return
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(doc, version, strict=True)


def validate_all(docs: Iterable[dict[str, Any]]) -> list[str]:
    """Validate every document; return `kind/name` of each, for the caller's checks."""
    names = []
    for doc in docs:
        validate(doc)
        names.append(f"{doc['kind']}/{doc['metadata']['name']}")
    return names
