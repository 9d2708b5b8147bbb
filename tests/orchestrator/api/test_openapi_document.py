"""The OpenAPI document: it loads, is OpenAPI 3.1, and every route is documented —
summary, description, typed success response, problem responses for errors."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from orchestrator.api.problems import allowed_methods
from tests.orchestrator.conftest import Harness

PROBLEM_REF = "#/components/schemas/Problem"
EXPECTED_OPERATIONS = {
    ("post", "/v1/sessions"), ("get", "/v1/sessions"), ("get", "/v1/sessions/{session_id}"),
    ("delete", "/v1/sessions/{session_id}"), ("post", "/v1/sessions/{session_id}/spectators"),
    ("post", "/v1/sessions/{session_id}/whep"),
    ("delete", "/v1/sessions/{session_id}/whep/{resource_id}"),
    ("options", "/v1/sessions/{session_id}/whep"),
    ("options", "/v1/sessions/{session_id}/whep/{resource_id}"),
    ("get", "/v1/scenarios"), ("get", "/v1/scenarios/schema"),
    ("get", "/v1/scenarios/{scenario_id}"), ("put", "/v1/scenarios/{scenario_id}"),
    ("get", "/v1/sessions/{session_id}/scenario"),
    ("post", "/v1/sessions/{session_id}/scenario/commands"),
    ("get", "/v1/sessions/{session_id}/aar"), ("get", "/v1/sessions/{session_id}/recording"),
    ("get", "/v1/pool"), ("get", "/v1/me"),
    ("get", "/v1/events"),
    ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
    ("get", "/v1/auth/config"),
}  # fmt: skip
#: Public on purpose: a page asks how to sign in before it holds a token.
PUBLIC_V1 = {"/v1/auth/config"}


async def openapi(make_app: Callable[..., AbstractAsyncContextManager[Harness]]) -> Any:
    async with make_app() as harness:
        response = await harness.client.get("/openapi.json")
        assert response.status_code == 200
        docs = await harness.client.get("/docs")
        assert docs.status_code == 200
        return response.json()


async def test_the_document_lists_every_operation_and_nothing_else(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    document = await openapi(make_app)
    assert document["openapi"].startswith("3.1")
    operations = {(m, p) for p, item in document["paths"].items() for m in item}
    assert operations == EXPECTED_OPERATIONS


async def test_every_operation_is_described_and_documents_its_responses(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    document = await openapi(make_app)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert operation.get("description"), f"{where} has no docstring"
            assert operation.get("tags"), where
            codes = set(operation["responses"])
            assert any(c.startswith("2") for c in codes), where
            for code, response in operation["responses"].items():
                if int(code) >= 400 and code != "422":
                    content = response.get("content", {})
                    assert "application/problem+json" in content, f"{where} {code}"
                    assert content["application/problem+json"]["schema"]["$ref"] == PROBLEM_REF


async def test_v1_calls_require_the_bearer_scheme_and_probes_do_not(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    document = await openapi(make_app)
    assert document["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            secured = "security" in operation
            if path.startswith("/v1/") and "/whep" not in path and path not in PUBLIC_V1:
                assert secured, f"{method} {path}"
            if path in ("/healthz", "/readyz", "/metrics", *PUBLIC_V1):
                assert not secured, path


async def test_every_schema_reference_resolves(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    document = await openapi(make_app)
    schemas = document["components"]["schemas"]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None:
                assert ref.startswith("#/components/schemas/")
                assert ref.rsplit("/", 1)[1] in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


async def test_every_error_answer_is_documented_as_a_problem_document(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    document = await openapi(make_app)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if "requestBody" in operation:
                assert {"400", "422"} <= set(responses), (method, path)
            if "401" in responses:
                assert "403" in responses, (method, path)
            for code, response in responses.items():
                if code[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        method, path, code,
                    )  # fmt: skip


PATHS = {
    "/v1/sessions": {"get": {}, "post": {}},
    "/v1/sessions/{session_id}": {"get": {}, "delete": {}},
    "/v1/scenarios/schema": {"get": {}},
    "/v1/scenarios/{scenario_id}": {"get": {}, "put": {}},
}


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/sessions", ["GET", "POST"]),
        ("/v1/sessions/s-1", ["DELETE", "GET"]),
        ("/v1/scenarios/schema", ["GET"]),
        ("/v1/scenarios/gas-leak", ["GET", "PUT"]),
        ("/v1/sessions/s-1/nothing", []),
    ],
    ids=["collection", "item", "literal-shadows-template", "template", "unknown"],
)
def test_a_405_lists_every_method_the_document_gives_its_path(
    path: str, allowed: list[str]
) -> None:
    assert allowed_methods(PATHS, path) == allowed


async def test_a_method_the_path_does_not_serve_is_405_naming_all_it_does(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app() as harness:
        response = await harness.client.request("PATCH", "/v1/sessions/s-1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET"
    assert response.headers["content-type"] == "application/problem+json"
