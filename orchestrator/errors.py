"""Errors named by what went wrong; the API edge (`orchestrator.api.problems`) maps them
to HTTP status codes and RFC 9457 problem documents.

Each error carries a `detail` written for the caller: what was asked, what is wrong,
and what to do about it where there is something to do.
"""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base of every error the orchestrator raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# --- configuration -----------------------------------------------------------------


class ConfigurationError(OrchestratorError):
    """The settings cannot run a safe orchestrator (e.g. production without a key)."""


class StateDirLockedError(ConfigurationError):
    """Another orchestrator already owns the state directory."""


# --- caller errors -----------------------------------------------------------------


class AuthenticationError(OrchestratorError):
    """No bearer token, or one that cannot be parsed (RFC 6750 §3.1: 401)."""


class TokenRejectedError(OrchestratorError):
    """A token that parses but fails verification: signature, expiry, audience, issuer."""


class PermissionDeniedError(OrchestratorError):
    """The caller is authenticated but may not do this (wrong role, foreign session)."""


class SessionTokenRejectedError(PermissionDeniedError):
    """A session token that does not open this session's signalling (the streamer
    contract answers 403 for a bad signature, expiry, audience or `sid`)."""


class SessionNotFoundError(OrchestratorError):
    """No session with that id (or it ended long enough ago to be forgotten)."""


class UnknownScenarioError(OrchestratorError):
    """The requested scenario is not in the catalogue."""


class ScenarioNotFoundError(OrchestratorError):
    """No scenario document with that id in the library."""


class ScenarioInvalidError(OrchestratorError):
    """An uploaded scenario document fails validation; `errors` locate each problem
    (line, field, message) so an editor can point at it."""

    def __init__(self, detail: str, errors: list[dict[str, object]]) -> None:
        super().__init__(detail)
        self.errors = errors


class BodyTooLargeError(OrchestratorError):
    """A request body is over its route's size limit (413); refused while reading."""


class ScenarioTooLargeError(BodyTooLargeError):
    """An uploaded scenario document is over the size limit."""


class UnsupportedMediaTypeError(OrchestratorError):
    """The request body is not in a media type this endpoint reads."""


class CapacityExhaustedError(OrchestratorError):
    """Every session slot is taken and the caller did not ask to wait."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class QueueFullError(CapacityExhaustedError):
    """The caller asked to wait but the queue is at its limit."""


class TooManyStreamsError(OrchestratorError):
    """The caller already holds as many open event streams as one caller may (429)."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class BadEventIdError(OrchestratorError):
    """A `Last-Event-ID` that is not an id the event feed sends (400)."""


class SessionNotReadyError(OrchestratorError):
    """Signalling was attempted on a session that has no streamer to talk to yet (or any more)."""

    def __init__(self, detail: str, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class SessionGoneError(OrchestratorError):
    """Signalling was attempted on a session that has ended or failed."""


class ArtifactNotFoundError(OrchestratorError):
    """A session has no after-action log or recording (never made, or deleted)."""


# --- the streamer's control API (C4), as the orchestrator relays it -----------------


class StreamerControlError(OrchestratorError):
    """A call to a session's streamer control API failed; `detail` carries the
    streamer's own message."""


class StreamerNothingThereError(StreamerControlError):
    """The streamer has no such thing: no scenario loaded, an unknown instructor event,
    recording off (its 404)."""


class StreamerConflictError(StreamerControlError):
    """The streamer cannot do that now: the scenario is not running, or it is too late
    to configure (its 409)."""


class StreamerRejectedError(StreamerControlError):
    """The streamer refused the request's content: an invalid document, nodes missing
    from its scene (its 422)."""


class StreamerUnreachableError(StreamerControlError):
    """The streamer did not answer, or answered something unexpected."""


# --- lifecycle ---------------------------------------------------------------------


class IllegalTransitionError(OrchestratorError):
    """A state change the session state machine forbids; always a bug in the caller."""


# --- backends ----------------------------------------------------------------------


class BackendError(OrchestratorError):
    """A backend could not do what was asked (spawn, claim, observe, delete)."""


class StreamerStartError(BackendError):
    """A streamer did not become ready: it could not be spawned, it exited, or it timed out.

    `reason` is one of `orchestrator.sessions.states.FailureReason`'s values so the
    session that waited for it fails with the same reason.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
