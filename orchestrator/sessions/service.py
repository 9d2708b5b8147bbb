"""The session service: creates, starts, watches and ends sessions.

It runs the lifecycle of DESIGN.md §3 the way Agones runs game servers: each step is a
small method that moves one session one state forward (`_begin`, `_finish_cold_start`,
`_apply`, `_end`, `_fail`), and one reconcile loop drives them. The loop wakes on every
transition (to hand freed capacity to the queue and refill the warm pool at once) and
every `reconcile_interval_s` (to poll streamers for viewers, first frames and death, and
to reap orphans).

What is not the lifecycle sits beside it: lookup (`registry.py`), capacity and the queue
(`admission.py`), tokens and the WHEP gate (`gate.py`), what a streamer's status means
(`observation.py`) and which streamers may be reaped (`orphans.py`), both pure, and the
matching after a restart (`recovery.py`). The warm pool comes with the backend
(`WarmSupply`): the service drives it without knowing whether it is this replica's own
or the cluster's.

Concurrency: everything runs on one event loop. A session's multi-step changes hold
its `lock`; capacity is taken by the synchronous move to `starting`, before any
await, so two requests can never take the same slot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog

from orchestrator.audit import SYSTEM_ACTOR, AuditAction, AuditLog
from orchestrator.backends.base import SessionBackend, Streamer, StreamerPhase, WarmSupply
from orchestrator.clock import Clock
from orchestrator.errors import OrchestratorError, StreamerStartError
from orchestrator.identity import Principal
from orchestrator.learning.recorder import LearningRecorder
from orchestrator.metrics import OrchestratorMetrics, Snapshot
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.scenarios.link import ScenarioCommand, ScenarioLink
from orchestrator.sessions import access
from orchestrator.sessions.admission import Admission
from orchestrator.sessions.gate import SessionGate
from orchestrator.sessions.journal import SessionJournal
from orchestrator.sessions.mirror import StateMirror
from orchestrator.sessions.models import Session, SessionSpec, StartKind
from orchestrator.sessions.observation import (
    Fail,
    MissedPoll,
    ObservationRules,
    Report,
    Verdict,
    read_observation,
)
from orchestrator.sessions.profiles import default_spec, profile_for
from orchestrator.sessions.reaper import Reaper
from orchestrator.sessions.recovery import Recovery
from orchestrator.sessions.registry import SessionRegistry
from orchestrator.sessions.states import (
    SIGNALLING_STATES,
    TERMINAL_STATES,
    EndReason,
    FailureReason,
    SessionState,
)
from orchestrator.sessions.transitions import Transitions
from orchestrator.settings import OrchestratorSettings
from orchestrator.tasks import TaskOwner

log = structlog.get_logger("orchestrator.sessions")

S = SessionState
#: Reap orphans every this many polls (a `list()` of every streamer is the costly part).
REAP_EVERY_POLLS = 5


class SessionService:
    def __init__(
        self,
        *,
        settings: OrchestratorSettings,
        backend: SessionBackend,
        pool: WarmSupply,
        journal: SessionJournal,
        audit: AuditLog,
        metrics: OrchestratorMetrics,
        clock: Clock,
        catalogue: ScenarioCatalogue,
        learning: LearningRecorder | None = None,
        announce: Callable[[Session], None] = lambda _: None,
        scenario_log: Callable[[Session, list[dict[str, Any]]], None] = lambda *_: None,
        pool_checked: Callable[[], None] = lambda: None,
    ) -> None:
        """`announce` is told of every change a page shows, `scenario_log` of a running
        scenario's new log entries, `pool_checked` after each look at the warm pool
        (all three: the live feed)."""
        self._pool_checked = pool_checked
        self._settings = settings
        self._announce = announce
        self._backend = backend
        self._journal = journal
        self._audit = audit
        self._metrics = metrics
        self._clock = clock
        self.catalogue = catalogue
        #: The backend's warm pool: this replica's own, or the cluster's.
        self.pool = pool
        #: The sessions this replica knows, and the capacity and queue they share.
        self.sessions = SessionRegistry()
        self.admission = Admission(settings, self.sessions, metrics)
        self._tasks = TaskOwner("sessions")
        self._jobs: dict[str, asyncio.Task[Any]] = {}
        self._wake = asyncio.Event()
        self._polls = 0
        self._serving = False
        self._mirror = StateMirror(backend, self._tasks)
        self._transitions = Transitions(
            journal=journal,
            metrics=metrics,
            clock=clock,
            mirror=self._mirror,
            wake=self._wake.set,
            learning=learning,
            announce=announce,
        )
        self._reaper = Reaper(backend=backend, pool=pool, sessions=self.sessions, audit=audit)
        self._rules = ObservationRules.of(settings)
        #: Session tokens and the WHEP gate.
        self.gate = SessionGate(
            settings, self.sessions, self.admission, audit, clock, self._transitions
        )
        metrics.track_state(self.snapshot)
        #: Scenario documents, instructor commands, after-action logs and recordings.
        self.link = ScenarioLink(
            settings=settings,
            catalogue=catalogue,
            audit=audit,
            metrics=metrics,
            clock=clock,
            learning=learning,
            on_log=scenario_log,
        )

    def default_spec(self) -> SessionSpec:
        return default_spec(self._settings)

    @property
    def serving(self) -> bool:
        """True between a finished `start()` and `stop()`: what `/readyz` reports."""
        return self._serving

    # --- start and stop ------------------------------------------------------------

    async def start(self) -> None:
        await self.pool.start(self._wake.set)
        await Recovery(
            backend=self._backend,
            pool=self.pool,
            journal=self._journal,
            sessions=self.sessions,
            admission=self.admission,
            audit=self._audit,
            fail=self._fail,
            resume=self._resume,
        ).run()
        self._tasks.spawn(self._reconcile_forever(), name="reconcile")
        self._tasks.spawn(self.link.sweep_forever(), name="aar-sweep")
        self._serving = True

    async def stop(self) -> None:
        """Stop background work; end everything or leave it running, per `shutdown_policy`."""
        self._serving = False
        ending = self._settings.shutdown_policy == "end"
        await self._tasks.close()
        self._jobs.clear()
        await self.pool.close(stop_streamers=ending)
        if ending:
            live = [s for s in self.sessions if s.state not in TERMINAL_STATES]
            await asyncio.gather(*(self._end_now(s, EndReason.SHUTDOWN) for s in live))
        await self.link.close()

    async def _end_now(self, session: Session, reason: EndReason) -> None:
        """Shutdown path: end `session` and wait for its streamer to be gone."""
        self.admission.withdraw(session.id)
        if session.state is not S.ENDING:
            self._transitions.advance(session, S.ENDING, reason)
            self._audit.record(
                AuditAction.END, actor=SYSTEM_ACTOR, session_id=session.id, reason=reason.value
            )
        if session.streamer is not None:
            try:
                await self.link.finish(session)
                await self._backend.delete(session.streamer.id)
            except OrchestratorError as exc:
                self._fail(session, FailureReason.STOP_FAILED, exc.detail)
                return
        self._transitions.advance(session, S.ENDED, session.lifecycle.reason or reason)

    # --- queries -------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        kept = self.pool.kept_here()
        return Snapshot(
            sessions_by_state=self.sessions.by_state(),
            queue_length=len(self.admission),
            pool_ready=kept.ready,
            pool_starting=kept.starting,
        )

    def holding(self) -> int:
        return self.sessions.holding()

    def waiting_for_node(self, session: Session) -> str | None:
        """Why a starting session's streamer has nowhere to run yet (no free GPU), or
        None. Such a session is reported `pending`: nothing is starting, and telling a
        trainee it is would promise a wait the scheduler cannot bound."""
        if session.state is not S.STARTING or session.streamer is None:
            return None
        return self._backend.pending_reason(session.streamer.id)

    def get_any(self, session_id: str) -> Session:
        """A session regardless of who asks (internal callers and tests)."""
        return self.sessions.lookup(session_id)

    # --- scenario control (the calls themselves: `scenarios/link.py`) -------

    async def scenario_snapshot(self, principal: Principal, session_id: str) -> dict[str, Any]:
        return await self.link.snapshot(self.sessions.get(principal, session_id))

    async def scenario_command(
        self, principal: Principal, session_id: str, command: ScenarioCommand
    ) -> dict[str, Any]:
        """Forward an instructor's command; `end` then ends the session (the final
        log pull happens on the way, before its streamer stops)."""
        session = self.sessions.get(principal, session_id)
        snapshot = await self.link.command(principal, session, command)
        if command.command == "end":
            await self._end(session, EndReason.SCENARIO_ENDED, actor=principal.subject)
        return snapshot

    # --- create --------------------------------------------------------------------

    async def create(self, principal: Principal, spec: SessionSpec, *, wait: bool) -> Session:
        profile = profile_for(spec, self._settings, self.catalogue)
        start_now = self.admission.admit(wait=wait)
        session = Session.new(principal, spec, profile, self._clock.now())
        self.sessions.add(session)
        self._journal.save(session.to_json())
        self._metrics.transitions.labels("none", S.PENDING.value).inc()
        self._audit.record(
            AuditAction.CREATE,
            actor=principal.subject,
            session_id=session.id,
            role=principal.role.value,
            scenario=spec.scenario,
            client=spec.client,
            record=spec.record,
            resolution=f"{spec.width}x{spec.height}@{spec.fps}",
            queued=not start_now,
        )
        if start_now:
            await self._begin(session)
        else:
            position = self.admission.enqueue(session)
            log.info("session.queued", session=session.id, position=position)
            self._announce(session)  # the live feed: queued, with its position
        return session

    async def _begin(self, session: Session) -> None:
        """pending → starting, then a warm claim (→ ready) or a cold spawn (job)."""
        self._transitions.advance(session, S.STARTING)  # takes the capacity slot, before any await
        async with session.lock:
            try:
                streamer, kind = await self._obtain_streamer(session)
            except StreamerStartError as exc:
                self._fail(session, exc.reason, exc.detail)
                return
            except OrchestratorError as exc:
                self._fail(session, FailureReason.BACKEND_ERROR, exc.detail)
                return
            except Exception as exc:  # a bug or the disk: never leave it holding a slot
                log.exception("session.begin_failed", session=session.id)
                self._fail(session, FailureReason.BACKEND_ERROR, repr(exc))
                return
            if streamer is None:
                return  # ended while claiming
            if session.state is not S.STARTING:  # ended while we awaited the backend
                self._release(streamer.id)
                return
            self._bind(session, streamer, kind)
            await self._bring_up(session, streamer)

    async def _obtain_streamer(self, session: Session) -> tuple[Streamer | None, StartKind]:
        """A warm streamer claimed from the pool, else a cold-started one."""
        streamer = await self.pool.claim(session.profile, session.id)
        if streamer is not None or session.state is not S.STARTING:
            return streamer, "warm"
        streamer = await self._backend.spawn(session.profile, session.id)
        self._metrics.streamer_spawns.labels("session", "spawned").inc()
        return streamer, "cold"

    async def _bring_up(
        self, session: Session, streamer: Streamer, *, readopted: bool = False
    ) -> None:
        """A ready streamer is configured at once (→ ready); a starting one gets a job
        that waits for it."""
        if streamer.phase is StreamerPhase.READY:
            if await self._configure(session, readopted=readopted):
                self._mark_ready(session)
        else:
            self._jobs[session.id] = self._tasks.spawn(
                self._finish_cold_start(session), name=f"start:{session.id}"
            )

    async def _finish_cold_start(self, session: Session) -> None:
        assert session.streamer is not None
        try:
            streamer = await self._backend.wait_ready(
                session.streamer.id, self._settings.start_timeout_s
            )
        except StreamerStartError as exc:
            async with session.lock:
                if session.state is S.STARTING:
                    self._fail(session, exc.reason, exc.detail)
            return
        finally:
            if self._jobs.get(session.id) is asyncio.current_task():
                del self._jobs[session.id]
        async with session.lock:
            if session.state is S.STARTING:
                session.streamer = streamer
                if await self._configure(session):
                    self._mark_ready(session)

    def _bind(self, session: Session, streamer: Streamer, kind: StartKind) -> None:
        session.streamer = streamer
        session.start_kind = kind
        self._mirror.write(session)
        self._metrics.claims.labels(kind).inc()
        self._journal.save(session.to_json())
        self._audit.record(
            AuditAction.CLAIM,
            actor=session.owner,
            session_id=session.id,
            streamer=streamer.id,
            kind=kind,
        )

    async def _configure(self, session: Session, *, readopted: bool = False) -> bool:
        """Load the session's scenario document and recording choice onto its streamer
        (before `ready`); a refusal fails the session, which releases the streamer."""
        why = await self.link.configure(session, readopted=readopted)
        if why is not None:
            self._fail(session, FailureReason.CONFIGURE_FAILED, why)
        return session.state is S.STARTING

    def _mark_ready(self, session: Session) -> None:
        now = self._clock.now()
        session.ready_at = now
        self._metrics.ready_latency.labels(session.start_kind or "cold").observe(
            max(0.0, now - session.created_at)
        )
        self._transitions.advance(session, S.READY)

    # --- end and fail --------------------------------------------------------------

    async def end(self, principal: Principal, session_id: str) -> Session:
        session = self.sessions.lookup(session_id)
        access.require_end(principal, session)
        await self._end(session, EndReason.DELETED, actor=principal.subject)
        return session

    async def _end(self, session: Session, reason: EndReason, *, actor: str) -> None:
        """→ ending, then a job stops the streamer (→ ended). Idempotent."""
        async with session.lock:
            if session.state in TERMINAL_STATES or session.state is S.ENDING:
                return
            job = self._jobs.pop(session.id, None)
            if job is not None:  # a cold start still waiting for readiness
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)
            self.admission.withdraw(session.id)
            self._transitions.advance(session, S.ENDING, reason)
            self._audit.record(
                AuditAction.END, actor=actor, session_id=session.id, reason=reason.value
            )
            if session.streamer is None:
                self._transitions.advance(session, S.ENDED, reason)
                return
            self._stop_in_background(session, reason)

    def _stop_in_background(self, session: Session, reason: EndReason) -> None:
        self._jobs[session.id] = self._tasks.spawn(
            self._stop_streamer(session, reason), name=f"stop:{session.id}"
        )

    async def _stop_streamer(self, session: Session, reason: EndReason) -> None:
        assert session.streamer is not None
        try:
            await self.link.finish(session)  # last log entries, recording: streamer still up
            await self._backend.delete(session.streamer.id)
        except OrchestratorError as exc:
            self._fail(session, FailureReason.STOP_FAILED, exc.detail)
            return
        finally:
            if self._jobs.get(session.id) is asyncio.current_task():
                del self._jobs[session.id]
        if session.state is S.ENDING:
            self._transitions.advance(session, S.ENDED, reason)

    def _fail(self, session: Session, reason: str, detail: str | None) -> None:
        """→ failed (from any live state), and release its streamer in the background."""
        if session.state in TERMINAL_STATES:
            return
        self.admission.withdraw(session.id)
        self._transitions.advance(session, S.FAILED, reason, detail)
        self._audit.record(
            AuditAction.FAIL,
            actor=SYSTEM_ACTOR,
            session_id=session.id,
            reason=reason,
            detail=detail,
        )
        if session.streamer is not None:
            self._release(session.streamer.id)

    def _release(self, streamer_id: str) -> None:
        self._tasks.spawn(self._backend.delete(streamer_id), name=f"release:{streamer_id}")

    # --- the reconcile loop --------------------------------------------------------

    async def _reconcile_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_poll = 0.0
        while True:
            self._wake.clear()
            try:
                if loop.time() >= next_poll:
                    next_poll = loop.time() + self._settings.reconcile_interval_s
                    await self.poll_streamers()
                await self.dispatch()
                self.sessions.sweep(self._clock.now() - self._settings.ended_retention_s)
                self._pool_checked()  # the live feed
            except Exception:
                log.exception("reconcile.failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, next_poll - loop.time())):
                    await self._wake.wait()

    async def dispatch(self) -> None:
        """Hand free capacity to the queue, then size the warm pool to what is left."""
        while (session := self.admission.next_to_start()) is not None:
            self._metrics.queue_wait.observe(max(0.0, self._clock.now() - session.created_at))
            await self._begin(session)
        self.pool.reconcile(max_sessions=self._settings.max_sessions, holding=self.holding())

    async def poll_streamers(self) -> None:
        """Observe every running session's streamer, and the warm pool's."""
        live = [s for s in self.sessions.in_states(SIGNALLING_STATES) if s.streamer is not None]
        observations = await asyncio.gather(
            *(self._backend.observe(s.streamer.id) for s in live if s.streamer is not None)
        )
        expired: list[tuple[Session, EndReason]] = []
        for session, observation in zip(live, observations, strict=True):
            if session.state in SIGNALLING_STATES:
                verdict = read_observation(session, observation, self._clock.now(), self._rules)
                end = self._apply(session, verdict)
                if end is not None:
                    expired.append((session, end))
        for session, end in expired:
            await self._end(session, end, actor=SYSTEM_ACTOR)
        await self.link.pull_all(live)
        await self.pool.check_health()
        self._polls += 1
        if self._polls % REAP_EVERY_POLLS == 0:
            await self.reap_orphans()

    async def reap_orphans(self) -> None:
        """One reaper round now (the loop runs one every `REAP_EVERY_POLLS` polls)."""
        await self._reaper.reap()

    def _apply(self, session: Session, verdict: Verdict) -> EndReason | None:
        """Carry out what an observation means (`observation.py`); returns why the
        session must end, for the caller to end it once every verdict is applied."""
        match verdict:
            case Fail(reason, detail, failed_polls):
                session.failed_polls = failed_polls or session.failed_polls
                self._fail(session, reason, detail)
            case MissedPoll(failed_polls):
                session.failed_polls = failed_polls
            case Report():
                self._record(session, verdict)
                return verdict.end
        return None

    def _record(self, session: Session, report: Report) -> None:
        """The measurements a status poll brought, and `active` once someone connected."""
        session.failed_polls = 0
        viewers_changed, session.viewers = session.viewers != report.viewers, report.viewers
        session.measured_fps = report.measured_fps
        session.frame_sample = report.frame_sample
        session.frames_sent = report.frames_sent
        session.last_viewer_left_at = report.last_viewer_left_at
        if report.first_frame_at is not None:
            session.first_frame_at = report.first_frame_at
            self._metrics.first_frame_latency.labels(session.start_kind or "cold").observe(
                max(0.0, report.first_frame_at - session.created_at)
            )
            self._journal.save(session.to_json())
        if report.activate:
            self._transitions.advance(session, S.ACTIVE, "viewer_connected")
        if report.scenario_over_at is not None:
            session.scenario_over_at = report.scenario_over_at
        if viewers_changed and not report.activate:
            self._announce(session)

    # --- recovery after a restart (what is matched with what: `recovery.py`) ----

    async def _resume(self, session: Session, streamer: Streamer) -> None:
        """Carry on where the previous run left a session whose streamer lives."""
        if session.state is S.ENDING:
            reason = EndReason(session.lifecycle.reason or EndReason.DELETED)
            self._stop_in_background(session, reason)
            return
        if session.state is S.PENDING:  # claimed just before the crash
            self._transitions.advance(session, S.STARTING)
        if session.state is S.STARTING:
            ready = streamer.phase is StreamerPhase.READY
            session.start_kind = session.start_kind or ("warm" if ready else "cold")
            await self._bring_up(session, streamer, readopted=True)
