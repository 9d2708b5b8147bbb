"""The signalling gate: who gets a session token, and which session a WHEP request
opens.

Tokens are minted with the session's streamer's key (docs/orchestrator.md, "Claim
handshake"), so the owner's token exists once the session has a streamer, and a
spectator's or a WHEP request waits out a `starting` session rather than failing.
"""

from __future__ import annotations

import asyncio
import contextlib

from orchestrator.audit import AuditAction, AuditLog
from orchestrator.clock import Clock
from orchestrator.errors import AuthenticationError, SessionGoneError, SessionNotReadyError
from orchestrator.identity import Principal
from orchestrator.sessions.admission import Admission
from orchestrator.sessions.models import Session
from orchestrator.sessions.registry import SessionRegistry
from orchestrator.sessions.states import SIGNALLING_STATES, TERMINAL_STATES, SessionState
from orchestrator.sessions.transitions import Transitions
from orchestrator.settings import OrchestratorSettings
from orchestrator.tokens import (
    IssuedToken,
    SessionClaims,
    SessionRole,
    mint_session_token,
    verify_session_token,
)

S = SessionState


class SessionGate:
    def __init__(
        self,
        settings: OrchestratorSettings,
        registry: SessionRegistry,
        admission: Admission,
        audit: AuditLog,
        clock: Clock,
        transitions: Transitions,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._admission = admission
        self._audit = audit
        self._clock = clock
        self._transitions = transitions

    def owner_token(self, principal: Principal, session: Session) -> IssuedToken | None:
        """The owner's signalling token, once the session has a streamer (and its key).

        The person a session is started for is its trainee, whatever else their account
        may do: an instructor or operator trying a scenario drives it, and its scenario
        starts when they connect. Instructors watch and steer others' sessions through
        spectator tokens and the scenario commands instead."""
        if principal.subject != session.owner or session.streamer is None:
            return None
        if session.state in TERMINAL_STATES or session.state is S.ENDING:
            return None
        return self._mint(session, SessionRole.TRAINEE, principal.subject)

    async def spectate(self, principal: Principal, session_id: str) -> IssuedToken:
        """A view-only token for `session_id` (spectators get the same encoded stream)."""
        session = self._registry.get(principal, session_id)
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
        session = self._registry.lookup(session_id)
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
            self._transitions.advance(session, S.ACTIVE, "viewer_connected")
        self._audit.record(
            AuditAction.JOIN,
            actor=claims.subject,
            session_id=session.id,
            role=claims.role.value,
            via="whep",
        )

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
                f"{self._admission.position(session.id)}; it has no streamer yet",
                retry_after_s=self._settings.retry_after_s,
            )
        if session.state is S.STARTING:
            raise SessionNotReadyError(f"session {session.id} is still starting", retry_after_s=1)
        raise SessionGoneError(
            f"session {session.id} is {session.state.value}"
            + (f" ({session.lifecycle.reason})" if session.lifecycle.reason else "")
        )
