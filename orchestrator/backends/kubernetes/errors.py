"""What a refused Kubernetes API request means to the backend: the HTTP status, the
machine-readable `reason` of its `Status` body (api-conventions.md, "Response Status
Kind"), and, for a busy server, how long it asked us to wait."""

from __future__ import annotations

from typing import Any

from orchestrator.errors import BackendError


class KubeApiError(BackendError):
    """The API server refused a request; `status` and `reason` say how."""

    def __init__(
        self, status: int, reason: str, message: str, *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"Kubernetes API {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        #: The server's `Retry-After` (or the Status' `details.retryAfterSeconds`), seconds.
        self.retry_after_s = retry_after_s
        #: An earlier try of this request failed in a way that may have applied it
        #: (set by `retry.Retrier`): a 409 may then be our own write coming back.
        self.after_unknown_outcome = False


def retry_after_s(header: str | None, body: Any) -> float | None:
    """The wait a busy server asked for: `Retry-After` in delay-seconds (RFC 9110
    §10.2.3; the API server never sends the HTTP-date form), else the Status body's
    `details.retryAfterSeconds`."""
    if header is not None and header.strip().isdigit():
        return float(header.strip())
    details = body.get("details") if isinstance(body, dict) else None
    seconds = details.get("retryAfterSeconds") if isinstance(details, dict) else None
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds >= 0:
        return float(seconds)
    return None
