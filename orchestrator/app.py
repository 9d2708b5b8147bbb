"""The application factory and its lifespan (FastAPI's lifespan, no import-time globals).

`create_app(settings)` returns an app whose lifespan builds everything a running
orchestrator needs, in order, and tears it down in reverse: the metrics registry (one
per app, so tests can build several), the backend with its warm pool
(`create_backend`: this replica's own pool, or the cluster-wide one on Kubernetes;
the app cannot tell which), opened to find what a previous run left, the audit log,
the session journal, the session service (which starts the pool, re-adopts or accounts
for every session, then starts its reconcile loop), and the HTTP client that proxies
WHEP to streamers. The WHEP proxy's answers carry CORS headers for the allowed origins
(`ixstream/cors.py`, `allowed_origins` in the settings); no other path does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from ixstream.cors import CorsPolicy, ScopedCors
from orchestrator.api.bodies import MAX_BODY_BYTES
from orchestrator.api.context import AppContext
from orchestrator.api.openapi import install_openapi
from orchestrator.api.problems import Problem, install_problem_handlers
from orchestrator.api.routes import (
    auth_config,
    events,
    health,
    instructor,
    me,
    scenarios,
    sessions,
    web,
    whep,
)
from orchestrator.api.security_headers import SecurityHeaders
from orchestrator.audit import AuditLog
from orchestrator.auth import Authenticator
from orchestrator.backends.factory import create_backend
from orchestrator.clock import Clock, SystemClock
from orchestrator.feed.hub import EventFeed, FeedLimits
from orchestrator.feed.publisher import SessionPublisher
from orchestrator.feed.wire import epoch_of
from orchestrator.ice.issuer import IceIssuer
from orchestrator.learning.records import LearningRecords
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.scenarios.library import ScenarioLibrary
from orchestrator.sessions.journal import SessionJournal
from orchestrator.sessions.profiles import default_spec, profile_for
from orchestrator.sessions.service import SessionService
from orchestrator.settings import OrchestratorSettings

log = structlog.get_logger("orchestrator.app")

#: CORS applies to the WHEP proxy only: a player on another origin may signal; the
#: rest of the API is for the web client this app serves itself (same origin).
WHEP_PATHS = re.compile(r"/v1/sessions/[^/]+/whep(/[^/]+)?")

DESCRIPTION = """The IX Stream control plane: sessions, warm pool, queue and WHEP proxy.

Every `/v1` call needs `Authorization: Bearer <API token>` (a JWT with a `role` of
trainee, instructor or operator), except the WHEP endpoints, which take the session
token a session's owner (or a spectator) was given. Errors are RFC 9457 problem
documents (`application/problem+json`).
"""


def scenario_catalogue(settings: OrchestratorSettings) -> ScenarioCatalogue:
    """The scenes shipped with the product plus the scenario library (uploads)."""
    scenes = [settings.scenes_dir] if settings.scenes_dir else []
    return ScenarioCatalogue(settings.scenes_dir, ScenarioLibrary(settings.scenario_dir, scenes))


def feed_limits(settings: OrchestratorSettings) -> FeedLimits:
    return FeedLimits(
        ring_size=settings.feed_ring_size,
        streams_per_principal=settings.feed_streams_per_principal,
    )


def create_app(settings: OrchestratorSettings, *, clock: Clock | None = None) -> FastAPI:
    """Build the app. `clock` defaults to the system's."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        the_clock = clock or SystemClock()
        metrics = OrchestratorMetrics(CollectorRegistry())
        catalogue = scenario_catalogue(settings)
        warm_profile = profile_for(default_spec(settings), settings, catalogue)
        streamers = create_backend(settings, the_clock, metrics, warm_profile)
        await streamers.backend.open()
        audit = AuditLog(settings.audit_path, the_clock)
        learning = LearningRecords(settings.learning, settings.state_dir, the_clock, metrics)
        feed = SessionPublisher(EventFeed(epoch_of(the_clock.now()), feed_limits(settings)))
        service = SessionService(
            settings=settings,
            backend=streamers.backend,
            pool=streamers.pool,
            journal=SessionJournal(settings.state_dir / "sessions"),
            audit=audit,
            metrics=metrics,
            clock=the_clock,
            catalogue=catalogue,
            learning=learning.recorder,
            announce=feed.session_changed,
            scenario_log=feed.scenario_logged,
            pool_checked=feed.pool_checked,
        )
        feed.bind(
            events.session_view(service),
            events.queue_positions(service),
            events.pool_view(service),
        )
        app.state.feed = feed.feed  # `ixstream up` ends streams when asked to stop
        proxy = httpx.AsyncClient(trust_env=False, timeout=settings.whep_timeout_s)
        try:
            await learning.start()
            await service.start()
            app.state.ctx = AppContext(
                settings=settings,
                service=service,
                backend=streamers.backend,
                authenticator=Authenticator(settings),
                registry=metrics.registry,
                proxy=proxy,
                audit=audit,
                ice=IceIssuer(settings.ice, the_clock),
                feed=feed,
            )
            log.info(
                "orchestrator.started",
                backend=streamers.backend.name,
                mode=settings.mode,
                max_sessions=settings.max_sessions,
                pool=settings.pool_size,
            )
            yield
        finally:
            log.info("orchestrator.stopping", policy=settings.shutdown_policy)
            feed.feed.close()
            await service.stop()
            await learning.close()
            await proxy.aclose()
            await streamers.backend.close()
            audit.close()

    app = FastAPI(
        title="IX Stream orchestrator",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        responses={422: {"model": Problem}},
    )
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(SecurityHeaders, connect_origins=auth_config.connect_origins(settings))
    app.add_middleware(
        ScopedCors, policy=CorsPolicy.for_origins(settings.allowed_origins), paths=WHEP_PATHS
    )
    app.include_router(health.router)
    app.include_router(sessions.router)
    app.include_router(instructor.router)
    app.include_router(scenarios.router)
    app.include_router(me.router)
    app.include_router(auth_config.router)
    app.include_router(whep.router)
    app.include_router(events.router)
    web.mount_web_client(app, settings.web_root)
    return app


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory orchestrator.app:create_app_from_env` (e.g. in a pod)."""
    from ixstream.logs import configure_logging

    settings = OrchestratorSettings()
    configure_logging(json_lines=settings.log_json)
    return create_app(settings)
