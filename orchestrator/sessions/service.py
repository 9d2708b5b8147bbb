"""The session service: creates, starts, watches and ends sessions.

It runs the lifecycle of DESIGN.md §3 the way Agones runs game servers: each
step is a small method that moves one session one state forward (`_begin`,
`_finish_cold_start`, `_apply_observation`, `_end`, `_fail`), and one reconcile loop
drives them. The loop wakes on every transition (to hand freed capacity to the queue
and refill the warm pool at once) and every `reconcile_interval_s` (to poll streamers
for viewers, first frames and death, and to reap orphans).

Concurrency: everything runs on one event loop. A session's multi-step changes hold
its `lock`; capacity is taken by the synchronous move to `starting`, before any
await, so two requests can never take the same slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import Counter
from typing import Any

import structlog

from orchestrator.audit import SYSTEM_ACTOR, AuditAction, AuditLog
from orchestrator.backends.base import (
    Observation,
    SessionBackend,
    Streamer,
    StreamerPhase,
    StreamerProfile,
)
from orchestrator.clock import Clock
from orchestrator.errors import (
    AuthenticationError,
    CapacityExhaustedError,
    OrchestratorError,
    QueueFullError,
    SessionGoneError,
    SessionNotFoundError,
    SessionNotReadyError,
    StreamerStartError,
)
from orchestrator.identity import Principal, Role
from orchestrator.metrics import OrchestratorMetrics, Snapshot
from orchestrator.pool import WarmPool
from orchestrator.queue import FairQueue
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.scenarios.link import ScenarioCommand, ScenarioLink
from orchestrator.sessions import access
from orchestrator.sessions.journal import SessionJournal
from orchestrator.sessions.lifetime import expiry
from orchestrator.sessions.machine import Lifecycle
from orchestrator.sessions.models import Session, SessionSpec, StartKind
from orchestrator.sessions.states import (
    CAPACITY_STATES,
    SIGNALLING_STATES,
    TERMINAL_STATES,
    EndReason,
    FailureReason,
    SessionState,
)
from orchestrator.sessions.throughput import FrameSample, frame_rate
from orchestrator.settings import OrchestratorSettings
from orchestrator.tasks import TaskOwner
from orchestrator.tokens import (
    IssuedToken,
    SessionClaims,
    SessionRole,
    mint_session_token,
    verify_session_token,
)

log = structlog.get_logger("orchestrator.sessions")

S = SessionState
#: Mirrored session states that let any replica reap the session's streamer.
OVER_STATES = frozenset(state.value for state in (S.ENDING, *TERMINAL_STATES))
#: Reap orphans every this many polls (a `list()` of every streamer is the costly part).
REAP_EVERY_POLLS = 5


def new_session_id() -> str:
    return f"s-{secrets.token_hex(8)}"


class SessionService:
    def __init__(
        self,
        *,
        settings: OrchestratorSettings,
        backend: SessionBackend,
        journal: SessionJournal,
        audit: AuditLog,
        metrics: OrchestratorMetrics,
        clock: Clock,
        catalogue: ScenarioCatalogue,
    ) -> None:
        self._settings = settings
        self._backend = backend
        self._journal = journal
        self._audit = audit
        self._metrics = metrics
        self._clock = clock
        self._catalogue = catalogue
        self._sessions: dict[str, Session] = {}
        self._queue = FairQueue()
        self._tasks = TaskOwner("sessions")
        self._jobs: dict[str, asyncio.Task[Any]] = {}
        self._wake = asyncio.Event()
        self._polls = 0
        self._serving = False
        # One lock per streamer, so its mirrored session state is written in order.
        self._mirror_locks: dict[str, asyncio.Lock] = {}
        self.pool = WarmPool(
            backend,
            self.profile_for(self.default_spec()),
            # A shared backend's warm pool is cluster-wide (the app runs its keeper); this
            # replica only claims from it, which `claim` does whatever `desired` is.
            desired=0 if backend.shared else settings.pool_size,
            start_timeout_s=settings.start_timeout_s,
            clock=clock,
            metrics=metrics,
            on_change=self._wake.set,
        )
        metrics.track_state(self.snapshot)
        #: Scenario documents, instructor commands, after-action logs and recordings.
        self.link = ScenarioLink(
            settings=settings, catalogue=catalogue, audit=audit, metrics=metrics, clock=clock
        )

    # --- configuration -------------------------------------------------------------

    def default_spec(self) -> SessionSpec:
        s = self._settings
        return SessionSpec(
            scenario=s.default_scenario,
            client="browser",
            width=s.default_width,
            height=s.default_height,
            fps=s.default_fps,
            codec=None,
        )

    def profile_for(self, spec: SessionSpec) -> StreamerProfile:
        """The streamer a spec needs; raises `UnknownScenarioError`."""
        scenario = self._catalogue.get(spec.scenario)
        return StreamerProfile(
            source=scenario.source,
            scene=scenario.scene,
            width=spec.width,
            height=spec.height,
            fps=spec.fps,
            codec=spec.codec or self._settings.default_codec,
            stereo=spec.client == "headset",
            bitrate_kbps=self._settings.bitrate_kbps,
        )

    @property
    def catalogue(self) -> ScenarioCatalogue:
        return self._catalogue

    @property
    def serving(self) -> bool:
        """True between a finished `start()` and `stop()`: what `/readyz` reports."""
        return self._serving

    # --- start and stop ------------------------------------------------------------

    async def start(self) -> None:
        await self.recover()
        self._tasks.spawn(self._reconcile_forever(), name="reconcile")
        self._tasks.spawn(self.link.sweep_forever(), name="aar-sweep")
        self._serving = True

    async def stop(self) -> None:
        """Stop background work; end everything or leave it running, per `shutdown_policy`."""
        self._serving = False
        await self._tasks.close()
        self._jobs.clear()
        if self._settings.shutdown_policy == "end":
            live = [s for s in self._sessions.values() if s.state not in TERMINAL_STATES]
            await asyncio.gather(*(self._end_now(s, EndReason.SHUTDOWN) for s in live))
        await self.pool.drain(stop_streamers=self._settings.shutdown_policy == "end")
        await self.link.close()

    async def _end_now(self, session: Session, reason: EndReason) -> None:
        """Shutdown path: end `session` and wait for its streamer to be gone."""
        self._queue.remove(session.id)
        if session.state is not S.ENDING:
            self._advance(session, S.ENDING, reason)
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
        self._advance(session, S.ENDED, session.lifecycle.reason or reason)

    # --- queries -------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return Snapshot(
            sessions_by_state=dict(Counter(s.state for s in self._sessions.values())),
            queue_length=len(self._queue),
            pool_ready=self.pool.ready_count,
            pool_starting=self.pool.starting_count,
        )

    def holding(self) -> int:
        return sum(1 for s in self._sessions.values() if s.state in CAPACITY_STATES)

    def free_capacity(self) -> int:
        return self._settings.max_sessions - self.holding()

    def queue_position(self, session_id: str) -> int | None:
        return self._queue.position(session_id)

    def waiting_for_node(self, session: Session) -> str | None:
        """Why a starting session's streamer has nowhere to run yet (no free GPU), or
        None. Such a session is reported `pending`: nothing is starting, and telling a
        trainee it is would promise a wait the scheduler cannot bound."""
        if session.state is not S.STARTING or session.streamer is None:
            return None
        return self._backend.pending_reason(session.streamer.id)

    def get(self, principal: Principal, session_id: str) -> Session:
        session = self._lookup(session_id)
        access.require_see(principal, session)
        return session

    def list(self, principal: Principal, states: set[SessionState] | None = None) -> list[Session]:
        return sorted(
            (
                s
                for s in self._sessions.values()
                if access.can_see(principal, s) and (not states or s.state in states)
            ),
            key=lambda s: s.created_at,
        )

    def get_any(self, session_id: str) -> Session:
        """A session regardless of who asks (internal callers and tests)."""
        return self._lookup(session_id)

    def _lookup(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFoundError(
                f"no session {session_id!r} (it never existed or has expired)"
            )
        return session

    # --- tokens --------------------------------------------------------------------

    def owner_token(self, principal: Principal, session: Session) -> IssuedToken | None:
        """The owner's signalling token, once the session has a streamer (and its key)."""
        if principal.subject != session.owner or session.streamer is None:
            return None
        if session.state in TERMINAL_STATES or session.state is S.ENDING:
            return None
        role = SessionRole.TRAINEE if session.owner_role is Role.TRAINEE else SessionRole.INSTRUCTOR
        return self._mint(session, role, principal.subject)

    def _mint(self, session: Session, role: SessionRole, subject: str) -> IssuedToken:
        assert session.streamer is not None
        return mint_session_token(
            session.streamer.key,
            session_id=session.id,
            role=role,
            subject=subject,
            now=self._clock.now(),
            ttl_s=self._settings.session_token_ttl_s,
        )

    async def spectate(self, principal: Principal, session_id: str) -> IssuedToken:
        """A view-only token for `session_id` (spectators get the same encoded stream)."""
        session = self.get(principal, session_id)
        await self._wait_for_streamer(session)
        issued = self._mint(session, SessionRole.SPECTATOR, principal.subject)
        self._audit.record(
            AuditAction.JOIN,
            actor=principal.subject,
            session_id=session.id,
            role=SessionRole.SPECTATOR.value,
            via="spectator-token",
        )
        return issued

    async def signalling_target(
        self, session_id: str, token: str | None
    ) -> tuple[Session, SessionClaims]:
        """The session whose streamer should receive this WHEP request, after checking
        that `token` opens exactly this session (the streamer checks again)."""
        session = self._lookup(session_id)
        if token is None:
            raise AuthenticationError(
                "WHEP requests need the session token as `Authorization: Bearer <token>`"
            )
        if session.streamer is not None:
            verify_session_token(session.streamer.key, token, session_id=session.id)
        await self._wait_for_streamer(session)
        assert session.streamer is not None
        claims = verify_session_token(session.streamer.key, token, session_id=session.id)
        return session, claims

    def note_viewer_connected(self, session: Session, claims: SessionClaims) -> None:
        """A WHEP offer was answered: the session is `active` without waiting for a poll."""
        if session.state is S.READY:
            self._advance(session, S.ACTIVE, "viewer_connected")
        self._audit.record(
            AuditAction.JOIN,
            actor=claims.subject,
            session_id=session.id,
            role=claims.role.value,
            via="whep",
        )

    async def _wait_for_streamer(self, session: Session) -> None:
        """Wait out a `starting` session; raise if it cannot take signalling."""
        if session.state is S.STARTING:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.start_timeout_s):
                    while session.state is S.STARTING:
                        session.settled.clear()
                        await session.settled.wait()
        if session.state in SIGNALLING_STATES and session.streamer is not None:
            return
        if session.state is S.PENDING:
            raise SessionNotReadyError(
                f"session {session.id} is queued at position "
                f"{self.queue_position(session.id)}; it has no streamer yet",
                retry_after_s=self._settings.retry_after_s,
            )
        if session.state is S.STARTING:
            raise SessionNotReadyError(f"session {session.id} is still starting", retry_after_s=1)
        raise SessionGoneError(
            f"session {session.id} is {session.state.value}"
            + (f" ({session.lifecycle.reason})" if session.lifecycle.reason else "")
        )

    # --- scenario control (the calls themselves: `scenarios/link.py`) -------

    async def scenario_snapshot(self, principal: Principal, session_id: str) -> dict[str, Any]:
        return await self.link.snapshot(self.get(principal, session_id))

    async def scenario_command(
        self, principal: Principal, session_id: str, command: ScenarioCommand
    ) -> dict[str, Any]:
        """Forward an instructor's command; `end` then ends the session (the final
        log pull happens on the way, before its streamer stops)."""
        session = self.get(principal, session_id)
        snapshot = await self.link.command(principal, session, command)
        if command.command == "end":
            await self._end(session, EndReason.SCENARIO_ENDED, actor=principal.subject)
        return snapshot

    # --- create --------------------------------------------------------------------

    async def create(self, principal: Principal, spec: SessionSpec, *, wait: bool) -> Session:
        profile = self.profile_for(spec)
        start_now = self.free_capacity() > 0 and len(self._queue) == 0
        if not start_now:
            self._refuse_unless_queueable(wait)
        now = self._clock.now()
        session = Session(
            id=new_session_id(),
            owner=principal.subject,
            owner_role=principal.role,
            spec=spec,
            profile=profile,
            created_at=now,
            lifecycle=Lifecycle.begin(now),
        )
        self._sessions[session.id] = session
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
            position = self._queue.push(session.id, session.owner)
            log.info("session.queued", session=session.id, position=position)
        return session

    def _refuse_unless_queueable(self, wait: bool) -> None:
        retry = self._settings.retry_after_s
        busy = f"all {self._settings.max_sessions} session slots are in use"
        if len(self._queue):
            busy += f" and {len(self._queue)} requests are queued ahead"
        if not wait:
            self._metrics.rejections.labels("full").inc()
            raise CapacityExhaustedError(
                f"{busy}; retry later, or create with wait=true to queue", retry
            )
        if len(self._queue) >= self._settings.queue_limit:
            self._metrics.rejections.labels("queue_full").inc()
            raise QueueFullError(
                f"{busy}, and the queue is full ({self._settings.queue_limit}); retry later",
                retry,
            )

    async def _begin(self, session: Session) -> None:
        """pending → starting, then a warm claim (→ ready) or a cold spawn (job)."""
        self._advance(session, S.STARTING)  # takes the capacity slot, before any await
        async with session.lock:
            try:
                streamer = await self.pool.claim(session.profile, session.id)
                if streamer is None and session.state is S.STARTING:
                    streamer = await self._backend.spawn(session.profile, session.id)
                    kind: StartKind = "cold"
                    self._metrics.streamer_spawns.labels("session", "spawned").inc()
                else:
                    kind = "warm"
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
            if streamer.phase is StreamerPhase.READY:
                if await self._configure(session):
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
        self._mirror(session)
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
        self._advance(session, S.READY)

    # --- end and fail --------------------------------------------------------------

    async def end(self, principal: Principal, session_id: str) -> Session:
        session = self._lookup(session_id)
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
            self._queue.remove(session.id)
            self._advance(session, S.ENDING, reason)
            self._audit.record(
                AuditAction.END, actor=actor, session_id=session.id, reason=reason.value
            )
            if session.streamer is None:
                self._advance(session, S.ENDED, reason)
                return
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
            self._advance(session, S.ENDED, reason)

    def _fail(self, session: Session, reason: str, detail: str | None) -> None:
        """→ failed (from any live state), and release its streamer in the background."""
        if session.state in TERMINAL_STATES:
            return
        self._queue.remove(session.id)
        self._advance(session, S.FAILED, reason, detail)
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

    # --- transitions ---------------------------------------------------------------

    def _advance(
        self,
        session: Session,
        target: SessionState,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        step = session.lifecycle.advance(target, self._clock.now(), reason, detail)
        source = step.source.value if step.source else "none"
        self._metrics.transitions.labels(source, target.value).inc()
        log.info(
            "session.transition",
            session=session.id,
            source=source,
            target=target.value,
            reason=reason,
            detail=detail,
        )
        if target in TERMINAL_STATES:
            self._journal.remove(session.id)
            counter = self._metrics.failures if target is S.FAILED else self._metrics.ends
            counter.labels(reason or "unknown").inc()
        else:
            self._journal.save(session.to_json())
        if target is not S.STARTING:
            session.settled.set()
        self._mirror(session)
        self._wake.set()

    def _mirror(self, session: Session) -> None:
        """Copy the session's state onto its streamer where other replicas read it
        (a shared backend): they know only their own sessions, and reap a streamer bound
        to someone else's only once its state there says the session is over."""
        if not self._backend.shared or session.streamer is None or self._tasks.closed:
            return
        streamer_id = session.streamer.id
        if session.state is S.ENDED:
            # `ended` follows the streamer's deletion: there is nothing left to write on.
            self._mirror_locks.pop(streamer_id, None)
            return
        lock = self._mirror_locks.setdefault(streamer_id, asyncio.Lock())
        self._tasks.spawn(self._write_mirror(session, streamer_id, lock), name="mirror")

    async def _write_mirror(self, session: Session, streamer_id: str, lock: asyncio.Lock) -> None:
        # Writes the state current when the lock is acquired, not the one that queued
        # this task: of writes racing for one pod, the last one is always the latest.
        async with lock:
            await self._backend.annotate_session(
                streamer_id, session.state.value, session.lifecycle.reason
            )
            if session.state in TERMINAL_STATES:
                self._mirror_locks.pop(streamer_id, None)

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
                self._sweep()
            except Exception:
                log.exception("reconcile.failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, next_poll - loop.time())):
                    await self._wake.wait()

    async def dispatch(self) -> None:
        """Hand free capacity to the queue, then size the warm pool to what is left."""
        while self.free_capacity() > 0 and len(self._queue):
            session_id = self._queue.pop()
            session = self._sessions.get(session_id or "")
            if session is None or session.state is not S.PENDING:
                continue
            self._metrics.queue_wait.observe(max(0.0, self._clock.now() - session.created_at))
            await self._begin(session)
        self.pool.reconcile(max_sessions=self._settings.max_sessions, holding=self.holding())

    async def poll_streamers(self) -> None:
        """Observe every running session's streamer, and the warm pool's."""
        live = [
            s
            for s in self._sessions.values()
            if s.state in SIGNALLING_STATES and s.streamer is not None
        ]
        observations = await asyncio.gather(
            *(self._backend.observe(s.streamer.id) for s in live if s.streamer is not None)
        )
        expired: list[tuple[Session, EndReason]] = []
        for session, observation in zip(live, observations, strict=True):
            if session.state in SIGNALLING_STATES:
                verdict = self._apply_observation(session, observation)
                if verdict is not None:
                    expired.append((session, verdict))
        for session, verdict in expired:
            await self._end(session, verdict, actor=SYSTEM_ACTOR)
        await self.link.pull_all(live)
        await self.pool.check_health()
        self._polls += 1
        if self._polls % REAP_EVERY_POLLS == 0:
            await self.reap_orphans()

    def _apply_observation(self, session: Session, obs: Observation) -> EndReason | None:
        if not obs.alive:
            self._fail(session, obs.failure or FailureReason.STREAMER_EXITED, obs.detail)
            return None
        if obs.status is None:
            session.failed_polls += 1
            if session.failed_polls >= self._settings.unresponsive_after:
                self._fail(
                    session,
                    FailureReason.STREAMER_UNRESPONSIVE,
                    f"{session.failed_polls} status polls failed: {obs.detail}",
                )
            return None
        session.failed_polls = 0
        status = obs.status
        session.viewers = status.viewers
        sample = FrameSample(status.frames_sent, self._clock.now())
        session.measured_fps = frame_rate(session.frame_sample, sample)
        session.frame_sample = sample
        session.frames_sent = status.frames_sent
        session.last_viewer_left_at = status.last_viewer_left_at
        if status.first_frame_sent_at is not None and session.first_frame_at is None:
            session.first_frame_at = status.first_frame_sent_at
            self._metrics.first_frame_latency.labels(session.start_kind or "cold").observe(
                max(0.0, status.first_frame_sent_at - session.created_at)
            )
            self._journal.save(session.to_json())
        if session.state is S.READY and (status.viewers > 0 or status.trainee_connected):
            self._advance(session, S.ACTIVE, "viewer_connected")
        if status.scenario_outcome is not None:
            # Ended by a trigger (an instructor's `end` ends the session at once): leave
            # the trainee time to read the outcome, then end it.
            now = self._clock.now()
            session.scenario_over_at = session.scenario_over_at or now
            if now - session.scenario_over_at >= self._settings.scenario_end_grace_s:
                return EndReason.SCENARIO_ENDED
        return expiry(
            now=self._clock.now(),
            ready_at=session.ready_at or session.created_at,
            viewers=status.viewers,
            last_viewer_left_at=status.last_viewer_left_at,
            idle_timeout_s=self._settings.idle_timeout_s,
            max_duration_s=self._settings.max_duration_s,
        )

    async def reap_orphans(self) -> None:
        """Stop streamers no live session and no pool owns (DESIGN.md §3, the reaper)."""
        now = self._clock.now()
        for streamer in await self._backend.list():
            if self._is_owned(streamer, now):
                continue
            self._audit.record(
                AuditAction.REAP,
                actor=SYSTEM_ACTOR,
                session_id=streamer.session_id,
                streamer=streamer.id,
                reason="orphan",
            )
            await self._backend.delete(streamer.id)

    def _is_owned(self, streamer: Streamer, now: float) -> bool:
        if self.pool.owns(streamer.id):
            return True
        if streamer.session_id is not None:
            session = self._sessions.get(streamer.session_id)
            if session is None and self._backend.shared:
                return not self._recorded_over(streamer)
            return session is not None and session.state not in TERMINAL_STATES
        if self._backend.shared:
            return True  # warm streamers are the cluster-wide pool keeper's to retire
        # A warm streamer between spawn and the pool recording it: young and starting.
        young = now - streamer.created_at < self._settings.start_timeout_s
        return streamer.phase is StreamerPhase.STARTING and young

    def _recorded_over(self, streamer: Streamer) -> bool:
        """Whether the session state mirrored onto a shared streamer says its session
        (probably another replica's) is over: `ending` counts, as the replica that owns
        it may have died before its delete, and a second delete is harmless."""
        recorded = self._backend.recorded_session_state(streamer.id)
        return recorded in OVER_STATES

    def _sweep(self) -> None:
        """Forget terminal sessions after `ended_retention_s`."""
        horizon = self._clock.now() - self._settings.ended_retention_s
        for session_id in [
            s.id
            for s in self._sessions.values()
            if s.state in TERMINAL_STATES and s.updated_at < horizon
        ]:
            del self._sessions[session_id]

    # --- recovery after a restart --------------------------------------------------

    async def recover(self) -> None:
        """Re-adopt or account for everything a previous run left (nothing leaks,
        nothing is silently lost): journalled sessions are matched with the streamers
        the backend still knows, queued ones are queued again, the rest fail with
        `lost_on_restart`; streamers no session claims join the pool or are stopped."""
        streamers = {s.id: s for s in await self._backend.list()}
        bound = {s.session_id: s for s in streamers.values() if s.session_id}
        records = sorted(self._journal.load_all(), key=lambda r: float(r.get("created_at", 0)))
        for record in records:
            try:
                session = Session.from_json(record)
            except (KeyError, ValueError, TypeError) as exc:
                log.error("recover.unreadable_session", record=record.get("id"), error=repr(exc))
                continue
            self._sessions[session.id] = session
            streamer = bound.pop(session.id, None)
            if streamer is not None:
                del streamers[streamer.id]
            await self._readopt(session, streamer)
        for streamer in streamers.values():
            await self._adopt_or_reap(streamer)

    async def _readopt(self, session: Session, streamer: Streamer | None) -> None:
        if streamer is None:
            if session.state is S.PENDING:
                self._queue.push(session.id, session.owner)
                self._audit.record(
                    AuditAction.ADOPT, actor=SYSTEM_ACTOR, session_id=session.id, state="pending"
                )
            else:
                self._fail(
                    session,
                    FailureReason.LOST_ON_RESTART,
                    "the orchestrator restarted and found no streamer for this session",
                )
            return
        session.streamer = streamer
        observation = await self._backend.observe(streamer.id)
        if not observation.alive:
            self._fail(
                session,
                FailureReason.LOST_ON_RESTART,
                f"the orchestrator restarted and the streamer was gone: {observation.detail}",
            )
            return
        if session.state is S.ENDING:
            reason = EndReason(session.lifecycle.reason or EndReason.DELETED)
            self._jobs[session.id] = self._tasks.spawn(
                self._stop_streamer(session, reason), name=f"stop:{session.id}"
            )
        else:
            if session.state is S.PENDING:  # claimed just before the crash
                self._advance(session, S.STARTING)
            if session.state is S.STARTING:
                session.start_kind = session.start_kind or (
                    "warm" if streamer.phase is StreamerPhase.READY else "cold"
                )
                if streamer.phase is StreamerPhase.READY:
                    if await self._configure(session, readopted=True):
                        self._mark_ready(session)
                else:
                    self._jobs[session.id] = self._tasks.spawn(
                        self._finish_cold_start(session), name=f"start:{session.id}"
                    )
        self._audit.record(
            AuditAction.ADOPT,
            actor=SYSTEM_ACTOR,
            session_id=session.id,
            streamer=streamer.id,
            state=session.state.value,
        )
        log.info("session.readopted", session=session.id, state=session.state.value)

    async def _adopt_or_reap(self, streamer: Streamer) -> None:
        if self._backend.shared and not (
            streamer.session_id is not None and self._recorded_over(streamer)
        ):
            return  # another replica's session, or the cluster-wide pool's warm streamer
        if streamer.session_id is None and streamer.profile == self.pool.profile:
            observation = await self._backend.observe(streamer.id)
            if observation.alive:
                if streamer.phase is StreamerPhase.READY:
                    self.pool.adopt(streamer)
                else:
                    self.pool.adopt_starting(streamer)
                log.info("pool.readopted", streamer=streamer.id)
                return
        why = (
            "bound to a session nobody knows"
            if streamer.session_id
            else "a warm streamer that is dead or of another profile"
        )
        self._audit.record(
            AuditAction.REAP,
            actor=SYSTEM_ACTOR,
            session_id=streamer.session_id,
            streamer=streamer.id,
            reason=why,
        )
        await self._backend.delete(streamer.id)
