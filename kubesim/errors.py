"""API errors as the Kubernetes API server reports them: a `Status` object.

api-conventions.md ("Response Status Kind"): every error response is a `Status` with
`status: Failure`, a machine-readable `reason` (`NotFound`, `AlreadyExists`,
`Conflict`, `Invalid`, `Gone`, ...), a human `message`, `details` naming the object,
and the HTTP `code` repeated in the body. Clients (the official one included) read
`reason` and `code`, never the message, so these must match the real server's.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the API answers with a `Status` body."""

    code = 500
    reason = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        group: str = "",
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.name = name
        self.group = group
        self.causes = causes or []

    def status(self) -> dict[str, Any]:
        """The `Status` body (api-conventions.md, "Response Status Kind")."""
        details: dict[str, Any] = {}
        if self.name is not None:
            details["name"] = self.name
        if self.kind is not None:
            details["group"] = self.group
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if details:
            body["details"] = details
        return body


class BadRequest(ApiError):  # noqa: N818 (the API reason)
    code, reason = 400, "BadRequest"


class Unauthorized(ApiError):  # noqa: N818 (the API reason)
    code, reason = 401, "Unauthorized"


class Forbidden(ApiError):  # noqa: N818 (the API reason)
    """Authenticated, but RBAC does not allow the request (see `rbac`)."""

    code, reason = 403, "Forbidden"


class NotFound(ApiError):  # noqa: N818 (the API reason)
    code, reason = 404, "NotFound"

    @classmethod
    def object(cls, resource: str, name: str, group: str = "") -> NotFound:
        qualified = f"{resource}.{group}" if group else resource
        return cls(f'{qualified} "{name}" not found', kind=resource, name=name, group=group)


class MethodNotAllowed(ApiError):  # noqa: N818 (the API reason)
    code, reason = 405, "MethodNotAllowed"


class AlreadyExists(ApiError):  # noqa: N818 (the API reason)
    code, reason = 409, "AlreadyExists"

    @classmethod
    def object(cls, resource: str, name: str, group: str = "") -> AlreadyExists:
        qualified = f"{resource}.{group}" if group else resource
        return cls(f'{qualified} "{name}" already exists', kind=resource, name=name, group=group)


class Conflict(ApiError):  # noqa: N818 (the API reason)
    """A stale `resourceVersion` or a failed precondition (api-conventions.md,
    "Concurrency Control and Consistency"): the client re-reads and retries."""

    code, reason = 409, "Conflict"

    @classmethod
    def modified(cls, resource: str, name: str, group: str = "") -> Conflict:
        qualified = f"{resource}.{group}" if group else resource
        return cls(
            f'Operation cannot be fulfilled on {qualified} "{name}": the object has been '
            "modified; please apply your changes to the latest version and try again",
            kind=resource,
            name=name,
            group=group,
        )


class Gone(ApiError):  # noqa: N818 (the API reason)
    """The requested resourceVersion is older than the watch history kept (410)."""

    code, reason = 410, "Expired"


class UnsupportedMediaType(ApiError):  # noqa: N818 (the API reason)
    code, reason = 415, "UnsupportedMediaType"


class Invalid(ApiError):  # noqa: N818 (the API reason)
    """Validation failed (422), with one `cause` per field, like the real server."""

    code, reason = 422, "Invalid"

    @classmethod
    def fields(
        cls, kind: str, name: str, problems: list[tuple[str, str]], group: str = ""
    ) -> Invalid:
        causes = [
            {"reason": "FieldValueInvalid", "message": message, "field": field}
            for field, message in problems
        ]
        summary = ", ".join(f"{field}: {message}" for field, message in problems)
        return cls(
            f'{kind} "{name}" is invalid: {summary}',
            kind=kind,
            name=name,
            group=group,
            causes=causes,
        )


class TooManyRequests(ApiError):  # noqa: N818 (the API reason)
    code, reason = 429, "TooManyRequests"
