"""What the orchestrator does with a session's scenario and recording on its streamer.

Issue 6 (contract C5): before a session is `ready` its streamer is given the session's
scenario document (if the scenario is a library document) and told whether to record
(`configure`); while it runs, its after-action log is pulled into the store every poll
(`pull`); instructors read where the scenario stands and steer it (`snapshot`,
`command`, each command audited); when it ends, before its streamer is stopped, the
log is pulled one last time and the recording fetched (`finish`). The session service
calls these at those points and owns the state machine; this module owns the calls.

A failed pull or recording fetch never fails a session: it is logged and counted
(`ixstream_orchestrator_aar_pull_failures_total`,
`ixstream_orchestrator_recording_fetch_failures_total`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import structlog

from orchestrator.audit import AuditAction, AuditLog
from orchestrator.clock import Clock
from orchestrator.errors import (
    OrchestratorError,
    PermissionDeniedError,
    SessionGoneError,
    SessionNotReadyError,
    StreamerConflictError,
)
from orchestrator.identity import Principal
from orchestrator.learning.recorder import LearningRecorder
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.scenarios.aar import AfterActionStore
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.scenarios.control_client import ControlTarget, StreamerControl
from orchestrator.scenarios.recordings import RecordingStore
from orchestrator.sessions import access
from orchestrator.sessions.models import Session
from orchestrator.sessions.states import SIGNALLING_STATES, TERMINAL_STATES, SessionState
from orchestrator.settings import OrchestratorSettings

log = structlog.get_logger("orchestrator.scenario_link")

CommandName = Literal["event", "pause", "resume", "end"]
Outcome = Literal["success", "partial", "failure"]
#: C4 returns at most this many log entries a call; a full page means ask again.
LOG_PAGE = 5000
#: Pages one pull may fetch, so a flood cannot hold up the poll loop.
MAX_PAGES_PER_PULL = 4
SWEEP_INTERVAL_S = 3600.0
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class ScenarioCommand:
    """An instructor's command (C4's body without `by`, which is the caller)."""

    command: CommandName
    event: str | None = None
    outcome: Outcome | None = None
    message: str | None = None

    def to_wire(self, by: str) -> dict[str, Any]:
        body: dict[str, Any] = {"command": self.command, "by": by}
        if self.command == "event":
            body["event"] = self.event
        if self.command == "end":
            body["outcome"] = self.outcome
            body["message"] = self.message
        return body

    def audit_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"command": self.command}
        if self.event is not None:
            # Not `event`: that is the name of the log record the audit entry is put on.
            details["instructor_event"] = self.event
        if self.outcome is not None:
            details["outcome"] = self.outcome
        return details


class ScenarioLink:
    """Configures, steers and collects from session streamers (C4) for the service."""

    def __init__(
        self,
        *,
        settings: OrchestratorSettings,
        catalogue: ScenarioCatalogue,
        audit: AuditLog,
        metrics: OrchestratorMetrics,
        clock: Clock,
        learning: LearningRecorder | None = None,
        on_log: Callable[[Session, list[dict[str, Any]]], None] = lambda *_: None,
    ) -> None:
        """`on_log` is told of each pull's new log entries (the live feed)."""
        self._settings = settings
        self._learning = learning or LearningRecorder.off()
        self._on_log = on_log
        self._catalogue = catalogue
        self._audit = audit
        self._metrics = metrics
        self._clock = clock
        self._http = httpx.AsyncClient(trust_env=False)
        self.control = StreamerControl(self._http)
        self.aar = AfterActionStore(settings.aar_path)
        self.recordings = RecordingStore(settings.recordings_path)
        # One per session with a pull in flight: a poll's pull and the final one must
        # not both append the same page.
        self._pull_locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        await self._http.aclose()

    # --- start ---------------------------------------------------------------------

    async def configure(self, session: Session, *, readopted: bool = False) -> str | None:
        """Give the session's streamer its scenario document and recording choice
        (`PUT /v1/scenario`) where there is either; returns why that failed, or None.

        A streamer takes its setup once; after a restart (`readopted`) its 409 means
        the previous run set it up before it could record the session `ready`.
        """
        try:
            document = self._catalogue.get(session.spec.scenario).document
            if document is None and not session.spec.record:
                return None
            await self.control.configure(
                ControlTarget.of(session.id, session.streamer),
                document.model_dump(mode="json") if document is not None else None,
                session.spec.record,
            )
        except StreamerConflictError as exc:
            if not readopted:
                return f"the streamer did not take scenario {session.spec.scenario!r}: {exc.detail}"
        except OrchestratorError as exc:
            return f"the streamer did not take scenario {session.spec.scenario!r}: {exc.detail}"
        session.scenario_loaded = document is not None
        return None

    # --- while it runs -------------------------------------------------------------

    async def pull_all(self, sessions: list[Session]) -> None:
        """One pull for every live session that runs a scenario document."""
        await asyncio.gather(
            *(self.pull(s) for s in sessions if s.scenario_loaded and s.state in SIGNALLING_STATES)
        )

    async def pull(self, session: Session) -> None:
        """Append the streamer's new log entries to the store. Never raises: a failed
        pull is logged and counted, and the next one picks up from the same cursor."""
        if not session.scenario_loaded or session.streamer is None:
            return
        lock = self._pull_locks.setdefault(session.id, asyncio.Lock())
        async with lock:
            try:
                target = ControlTarget.of(session.id, session.streamer)
                for _ in range(MAX_PAGES_PER_PULL):
                    cursor = self.aar.cursor(session.id)
                    page = await self.control.log(target, cursor)
                    self._learning.timeline(session, page.entries, after=cursor)
                    if new := self.aar.append(session.id, page.entries):
                        self._on_log(session, list(page.entries[-new:]))
                    if len(page.entries) < LOG_PAGE:
                        break
            except (OrchestratorError, OSError) as exc:
                self._metrics.aar_pull_failures.inc()
                log.warning("aar.pull_failed", session=session.id, error=_why(exc))

    async def snapshot(self, session: Session) -> dict[str, Any]:
        """Where the session's scenario stands (the streamer's C2 snapshot)."""
        _require_live(session)
        return await self.control.snapshot(ControlTarget.of(session.id, session.streamer))

    async def command(
        self, principal: Principal, session: Session, command: ScenarioCommand
    ) -> dict[str, Any]:
        """Forward an instructor's command with `by` = the caller; audit it, refused,
        failed or done. Returns the snapshot after it."""
        details = command.audit_details()
        try:
            access.require_direct(principal, session)
            _require_live(session)
            snapshot = await self.control.command(
                ControlTarget.of(session.id, session.streamer), command.to_wire(principal.subject)
            )
        except OrchestratorError as exc:
            result = "forbidden" if isinstance(exc, PermissionDeniedError) else "error"
            self._audit.record(
                AuditAction.SCENARIO_COMMAND,
                actor=principal.subject,
                session_id=session.id,
                **details,
                result=result,
                error=exc.detail,
            )
            raise
        self._audit.record(
            AuditAction.SCENARIO_COMMAND,
            actor=principal.subject,
            session_id=session.id,
            **details,
            result="ok",
        )
        return snapshot

    # --- end -----------------------------------------------------------------------

    async def finish(self, session: Session) -> None:
        """Before the streamer is stopped: the last log entries, then the recording.
        Never raises (but for cancellation): the session ends either way."""
        await self.pull(session)
        self._pull_locks.pop(session.id, None)
        self.aar.forget(session.id)
        if session.spec.record and session.ready_at is not None:
            await self._fetch_recording(session)

    async def _fetch_recording(self, session: Session) -> None:
        try:
            target = ControlTarget.of(session.id, session.streamer)
            await self.control.stop_recording(target)
            download = await self.control.download_recording(
                target, self.recordings.stem(session.id)
            )
        except (OrchestratorError, OSError) as exc:
            self._metrics.recording_fetch_failures.inc()
            log.warning("recording.fetch_failed", session=session.id, error=_why(exc))
            return
        log.info(
            "recording.saved",
            session=session.id,
            file=str(download.path),
            bytes=download.size_bytes,
        )

    # --- retention -----------------------------------------------------------------

    def sweep(self) -> None:
        """Delete after-action logs older than `aar_retention_days`, and recordings older
        than `recordings_retention_days`."""
        now, s = self._clock.now(), self._settings
        self.aar.sweep(now, s.aar_retention_days * DAY_S)
        self.recordings.sweep(now, s.recordings_retention_days * DAY_S)

    async def sweep_forever(self) -> None:
        """At start, then hourly (the service's task owner runs and cancels it)."""
        while True:
            try:
                self.sweep()
            except OSError as exc:
                log.error("aar.sweep_failed", error=repr(exc))
            await asyncio.sleep(SWEEP_INTERVAL_S)


def _require_live(session: Session) -> None:
    """A scenario runs only while the session has a serving streamer."""
    if session.state in SIGNALLING_STATES and session.streamer is not None:
        return
    if session.state in TERMINAL_STATES or session.state is SessionState.ENDING:
        raise SessionGoneError(f"session {session.id} is {session.state.value}")
    raise SessionNotReadyError(
        f"session {session.id} is {session.state.value}; its scenario is not running yet",
        retry_after_s=1,
    )


def _why(exc: Exception) -> str:
    return exc.detail if isinstance(exc, OrchestratorError) else repr(exc)
