"""The application factory and its lifespan (FastAPI's lifespan, no import-time globals).

`create_app(settings)` returns an app whose lifespan builds everything a running
orchestrator needs, in order, and tears it down in reverse: the backend (which finds
what a previous run left), the audit log, the session journal, the metrics registry
(one per app, so tests can build several), the session service (which re-adopts or
accounts for every session, then starts its reconcile loop), and the HTTP client that
proxies WHEP to streamers.

On Kubernetes the warm pool is cluster-wide: every replica runs a `WarmFleet`, whose
leader (one Lease) keeps `kubernetes.pool_buffer` ready pods for all of them, and the
session service's per-replica pool stays empty (`pool_size` does not apply there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from orchestrator.api.context import AppContext
from orchestrator.api.openapi import install_openapi
from orchestrator.api.problems import Problem, install_problem_handlers
from orchestrator.api.routes import health, instructor, me, scenarios, sessions, web, whep
from orchestrator.api.security_headers import SecurityHeaders
from orchestrator.audit import AuditLog
from orchestrator.auth import Authenticator
from orchestrator.backends.base import SessionBackend
from orchestrator.backends.factory import create_backend
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.fleet import WarmFleet
from orchestrator.clock import Clock, SystemClock
from orchestrator.metrics import OrchestratorMetrics
from orchestrator.scenarios.catalogue import ScenarioCatalogue
from orchestrator.scenarios.library import ScenarioLibrary
from orchestrator.sessions.journal import SessionJournal
from orchestrator.sessions.service import SessionService
from orchestrator.settings import OrchestratorSettings

log = structlog.get_logger("orchestrator.app")

DESCRIPTION = """The IX Stream control plane: sessions, warm pool, queue and WHEP proxy.

Every `/v1` call needs `Authorization: Bearer <API token>` (a JWT with a `role` of
trainee, instructor or operator), except the WHEP endpoints, which take the session
token a session's owner (or a spectator) was given. Errors are RFC 9457 problem
documents (`application/problem+json`).
"""


def create_app(
    settings: OrchestratorSettings,
    *,
    backend: SessionBackend | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the app. `backend` and `clock` default to the ones settings choose."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        the_clock = clock or SystemClock()
        registry = CollectorRegistry()
        the_backend = backend or create_backend(settings, the_clock, registry)
        await the_backend.open()
        audit = AuditLog(settings.audit_path, the_clock)
        service = SessionService(
            settings=settings,
            backend=the_backend,
            journal=SessionJournal(settings.state_dir / "sessions"),
            audit=audit,
            metrics=OrchestratorMetrics(registry),
            clock=the_clock,
            catalogue=ScenarioCatalogue(
                settings.scenes_dir,
                ScenarioLibrary(
                    settings.scenario_dir, [settings.scenes_dir] if settings.scenes_dir else []
                ),
            ),
        )
        proxy = httpx.AsyncClient(trust_env=False, timeout=settings.whep_timeout_s)
        fleet = (
            WarmFleet(the_backend, service.pool.profile, start_timeout_s=settings.start_timeout_s)
            if isinstance(the_backend, KubernetesBackend)
            else None
        )
        try:
            await service.start()
            if fleet is not None:
                await fleet.start()
            app.state.ctx = AppContext(
                settings=settings,
                service=service,
                backend=the_backend,
                authenticator=Authenticator(settings),
                registry=registry,
                proxy=proxy,
                audit=audit,
                fleet=fleet,
            )
            log.info(
                "orchestrator.started",
                backend=the_backend.name,
                mode=settings.mode,
                max_sessions=settings.max_sessions,
                pool=settings.pool_size,
            )
            yield
        finally:
            log.info("orchestrator.stopping", policy=settings.shutdown_policy)
            if fleet is not None:
                await fleet.close()  # warm pods stay: another replica's keeper takes over
            await service.stop()
            await proxy.aclose()
            await the_backend.close()
            audit.close()

    app = FastAPI(
        title="IX Stream orchestrator",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={422: {"model": Problem}},
    )
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(sessions.router)
    app.include_router(instructor.router)
    app.include_router(scenarios.router)
    app.include_router(me.router)
    app.include_router(whep.router)
    web.mount_web_client(app, settings.web_root)
    return app


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory orchestrator.app:create_app_from_env` (e.g. in a pod)."""
    from ixstream.logs import configure_logging

    settings = OrchestratorSettings()
    configure_logging(json_lines=settings.log_json)
    return create_app(settings)
