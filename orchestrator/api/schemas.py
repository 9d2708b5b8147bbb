"""The API's wire models (pydantic at the edge; dataclasses inside)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.backends.base import Codec
from orchestrator.ice.issuer import IceServer
from orchestrator.identity import Role
from orchestrator.sessions.models import ClientKind, StartKind
from orchestrator.sessions.states import SessionState
from orchestrator.tokens import SessionRole

SCENARIO_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


def utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class SessionCreate(BaseModel):
    """A session request. Omitted fields take the orchestrator's defaults (which is
    also what the warm pool is started with: asking for them gets a warm start)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(
        default=None,
        pattern=SCENARIO_PATTERN,
        description="Scenario name (see `GET /v1/scenarios`).",
    )
    client: ClientKind = Field(
        default="browser", description="`headset` streams side-by-side stereo; `browser` mono."
    )
    width: int | None = Field(
        default=None,
        ge=160,
        le=7680,
        multiple_of=8,
        description="Frame width, pixels (a multiple of 8).",
    )
    height: int | None = Field(
        default=None,
        ge=120,
        le=4320,
        multiple_of=4,
        description="Frame height, pixels (a multiple of 4).",
    )
    fps: int | None = Field(
        default=None, ge=1, le=144, description="Frame rate, frames per second."
    )
    codec: Codec | None = Field(
        default=None, description="Codec preference; default: the server's."
    )
    record: bool = Field(
        default=False,
        description="Record the stream; instructors and operators download it after the "
        "session from `GET /v1/sessions/{id}/recording`.",
    )


class TransitionOut(BaseModel):
    state: SessionState
    at: datetime
    reason: str | None = None
    detail: str | None = None


class IceServerOut(BaseModel):
    """An RTCIceServer (W3C WebRTC §4.2.2), to pass to `RTCPeerConnection` as is.

    TURN entries carry TURN REST API credentials minted for this session and caller
    (username `<expiry unix seconds>:<session id>`, credential an HMAC-SHA1 the TURN
    server checks): they expire on their own and are never stored or logged."""

    urls: list[str] = Field(description="`stun:`, `turn:` or `turns:` URIs (RFC 7064, 7065).")
    username: str | None = Field(default=None, description="TURN only.")
    credential: str | None = Field(default=None, description="TURN only.")

    @classmethod
    def listed(cls, servers: Sequence[IceServer]) -> list[IceServerOut]:
        return [
            cls(urls=list(s.urls), username=s.username, credential=s.credential) for s in servers
        ]


#: How `ice_servers` is documented wherever a WHEP URL is handed out.
ICE_SERVERS_DESCRIPTION = (
    "ICE servers for the peer connection that signals at `whep_url` (given with a token, "
    "fresh for each caller). Empty when none are configured: the browser then contacts "
    "no STUN or TURN server at all."
)


class SessionOut(BaseModel):
    """A session as its caller may see it. `token` is present for the owner only, once
    the session has a streamer; it opens the session's signalling at `whep_url`."""

    id: str
    state: SessionState
    reason: str | None = Field(default=None, description="Why it ended or failed.")
    detail: str | None = Field(default=None, description="More about the reason, for people.")
    owner: str
    scenario: str
    client: ClientKind
    width: int
    height: int
    fps: int
    codec: Codec
    record: bool = Field(default=False, description="Whether the stream is being recorded.")
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None = None
    first_frame_at: datetime | None = None
    queue_position: int | None = Field(default=None, description="1-based, while pending.")
    start: StartKind | None = Field(
        default=None, description="`warm` (claimed) or `cold` (spawned)."
    )
    viewers: int = 0
    frames_sent: int = Field(
        default=0, description="Frames the streamer has sent to viewers, from its status."
    )
    measured_fps: float | None = Field(
        default=None,
        description="Frames sent per second, measured between the last two status polls "
        "(`reconcile_interval_s` apart); null until two polls were made.",
    )
    whep_url: str = Field(description="WHEP endpoint (draft-ietf-wish-whep), proxied here.")
    token: str | None = None
    token_expires_at: datetime | None = None
    ice_servers: list[IceServerOut] = Field(
        default_factory=list, description=ICE_SERVERS_DESCRIPTION
    )
    transitions: list[TransitionOut]


class SessionList(BaseModel):
    items: list[SessionOut]
    count: int


class SpectatorJoin(BaseModel):
    """A view-only token: spectators receive the same encoded stream; input is ignored."""

    session_id: str
    role: Literal[SessionRole.SPECTATOR] = SessionRole.SPECTATOR
    token: str
    expires_at: datetime
    whep_url: str
    ice_servers: list[IceServerOut] = Field(
        default_factory=list, description=ICE_SERVERS_DESCRIPTION
    )


class ScenarioOut(BaseModel):
    name: str
    source: Literal["scene", "test-pattern"]
    title: str = Field(description="For people choosing a scenario.")
    description: str | None = Field(
        default=None, description="What the scenario trains or checks; null if none given."
    )
    domain: str | None = Field(
        default=None, description="Scenario documents only: police, fire, industrial_safety…"
    )
    expected_duration_min: float | None = Field(
        default=None, description="Scenario documents only: expected duration, minutes."
    )


class MeOut(BaseModel):
    """The caller as the orchestrator understands their token, so a client need not
    decode the JWT itself (the role claim's name is a server setting)."""

    subject: str
    role: Role


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    backend: str
    sessions: int
    max_sessions: int
    warm_streamers: int


class PoolStatus(BaseModel):
    """The warm pool and capacity, for operators."""

    desired: int = Field(description="Warm streamers the pool aims to keep.")
    ready: int
    starting: int
    holding: int = Field(description="Sessions holding a streamer (counted against the max).")
    free_capacity: int
    profile: dict[str, object] = Field(description="What warm streamers are started with.")


class EventCommand(BaseModel):
    """Fire one of the scenario's instructor events (`instructor_events[].id`)."""

    model_config = ConfigDict(extra="forbid")

    command: Literal["event"]
    event: str = Field(pattern=SCENARIO_PATTERN, description="The event's id.")


class PauseCommand(BaseModel):
    """Pause the scenario: its time stops and no trigger fires until `resume`."""

    model_config = ConfigDict(extra="forbid")

    command: Literal["pause"]


class ResumeCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: Literal["resume"]


class EndCommand(BaseModel):
    """End the scenario with an outcome; the session then ends too."""

    model_config = ConfigDict(extra="forbid")

    command: Literal["end"]
    outcome: Literal["success", "partial", "failure"]
    message: str | None = Field(default=None, max_length=1000)


ScenarioCommandIn = Annotated[
    EventCommand | PauseCommand | ResumeCommand | EndCommand, Field(discriminator="command")
]
