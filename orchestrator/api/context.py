"""What the app's lifespan builds and the routes use: one object on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry

from orchestrator.audit import AuditLog
from orchestrator.auth import Authenticator
from orchestrator.backends.base import SessionBackend
from orchestrator.feed.publisher import SessionPublisher
from orchestrator.ice.issuer import IceIssuer
from orchestrator.sessions.service import SessionService
from orchestrator.settings import OrchestratorSettings


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: OrchestratorSettings
    service: SessionService
    backend: SessionBackend
    authenticator: Authenticator
    registry: CollectorRegistry
    #: Forwards WHEP requests to streamers; one pooled client per app.
    proxy: httpx.AsyncClient
    #: Where routes record actions that are not the session service's (scenario uploads).
    audit: AuditLog
    #: ICE servers for browsers, TURN credentials minted per session and caller.
    ice: IceIssuer
    #: The live feed (`GET /v1/events`) and what publishes session changes to it.
    feed: SessionPublisher
