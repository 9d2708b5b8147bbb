"""The OpenAPI document, completed so that it tells clients every answer they can get.

Routes document their own error statuses; what no route can know is added here, once,
for all of them (a fuzzer that checks conformance, and any generated client, reads the
document literally):

- every error response (4xx, 5xx) is an RFC 9457 problem document, so its content type
  is `application/problem+json`, never FastAPI's default `application/json`;
- every operation with a request body can answer 400 (a body that is not the declared
  format, e.g. malformed JSON) and 422 (a body of the right format that fails
  validation); every operation with parameters can answer 422;
- every operation behind authentication (it documents 401) can answer 403 too.

`complete_problem_responses` is a pure function of the generated document.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from orchestrator.api.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


def complete_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with every operation's error responses completed (module docstring)."""
    for path_item in document.get("paths", {}).values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is not None:
                _complete(operation)
    return document


def _complete(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "requestBody" in operation:
        _ensure(responses, 400)
        _ensure(responses, 422)
    if operation.get("parameters"):
        _ensure(responses, 422)
    if "401" in responses:
        _ensure(responses, 403)
    for code, response in responses.items():
        if code[:1] in ("4", "5"):
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def _ensure(responses: dict[str, Any], status: int) -> None:
    responses.setdefault(str(status), {"description": HTTPStatus(status).phrase})


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at `/openapi.json` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_problem_responses(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
