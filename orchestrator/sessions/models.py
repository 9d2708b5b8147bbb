"""The session record the service keeps (a dataclass inside; pydantic only at the API).

A `Session` is created `pending` from a `SessionSpec` (what the caller asked for) and
the `StreamerProfile` it resolves to (what a streamer must be started with). Its
`lifecycle` is the state machine; everything else is what the orchestrator has learnt
about it along the way.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.backends.base import Codec, Streamer, StreamerProfile
from orchestrator.identity import Principal, Role
from orchestrator.sessions.machine import Lifecycle, Transition
from orchestrator.sessions.states import SessionState
from orchestrator.sessions.throughput import FrameSample

ClientKind = Literal["browser", "headset"]
StartKind = Literal["warm", "cold"]


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What the caller asked for."""

    scenario: str
    client: ClientKind
    width: int
    height: int
    fps: int
    codec: Codec | None
    #: Record the stream to a file the orchestrator keeps after the session (C3, C5).
    record: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "client": self.client,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "codec": self.codec,
            "record": self.record,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionSpec:
        return cls(
            scenario=data["scenario"],
            client=data["client"],
            width=int(data["width"]),
            height=int(data["height"]),
            fps=int(data["fps"]),
            codec=data["codec"],
            record=bool(data.get("record", False)),  # journals from before it default off
        )


@dataclass(slots=True)
class Session:
    id: str
    owner: str
    owner_role: Role
    spec: SessionSpec
    profile: StreamerProfile
    created_at: float
    lifecycle: Lifecycle
    streamer: Streamer | None = None
    start_kind: StartKind | None = None
    ready_at: float | None = None
    first_frame_at: float | None = None
    viewers: int = 0
    last_viewer_left_at: float | None = None
    failed_polls: int = 0
    #: The streamer took the session's scenario document: its after-action log is pulled.
    scenario_loaded: bool = False
    #: When the orchestrator first saw the streamer report the scenario over (clock time).
    scenario_over_at: float | None = None
    #: From the streamer's status polls (not journalled: the next polls measure afresh).
    frames_sent: int = 0
    measured_fps: float | None = None
    frame_sample: FrameSample | None = field(default=None, repr=False, compare=False)
    # Runtime only, never persisted: serialises start/end steps on this session, and
    # lets signalling wait for a cold start instead of failing while it is `starting`.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)
    settled: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    @classmethod
    def new(
        cls, principal: Principal, spec: SessionSpec, profile: StreamerProfile, now: float
    ) -> Session:
        """A session `principal` just asked for, `pending`, with a fresh random id."""
        return cls(
            id=f"s-{secrets.token_hex(8)}",
            owner=principal.subject,
            owner_role=principal.role,
            spec=spec,
            profile=profile,
            created_at=now,
            lifecycle=Lifecycle.begin(now),
        )

    @property
    def state(self) -> SessionState:
        return self.lifecycle.state

    @property
    def updated_at(self) -> float:
        return self.lifecycle.history[-1].at

    def to_json(self) -> dict[str, Any]:
        """The journal form: enough to re-adopt or account for it after a restart."""
        return {
            "id": self.id,
            "owner": self.owner,
            "owner_role": self.owner_role.value,
            "spec": self.spec.to_json(),
            "profile": self.profile.to_json(),
            "created_at": self.created_at,
            "state": self.state.value,
            "reason": self.lifecycle.reason,
            "detail": self.lifecycle.detail,
            "history": [_transition_to_json(t) for t in self.lifecycle.history],
            "streamer_id": self.streamer.id if self.streamer else None,
            "start_kind": self.start_kind,
            "ready_at": self.ready_at,
            "first_frame_at": self.first_frame_at,
            "scenario_loaded": self.scenario_loaded,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        history = [_transition_from_json(t) for t in data["history"]]
        return cls(
            id=data["id"],
            owner=data["owner"],
            owner_role=Role(data["owner_role"]),
            spec=SessionSpec.from_json(data["spec"]),
            profile=StreamerProfile.from_json(data["profile"]),
            created_at=float(data["created_at"]),
            lifecycle=Lifecycle(
                state=SessionState(data["state"]),
                reason=data.get("reason"),
                detail=data.get("detail"),
                history=history,
            ),
            start_kind=data.get("start_kind"),
            ready_at=data.get("ready_at"),
            first_frame_at=data.get("first_frame_at"),
            scenario_loaded=bool(data.get("scenario_loaded", False)),
        )


def _transition_to_json(t: Transition) -> dict[str, Any]:
    return {
        "source": t.source.value if t.source else None,
        "target": t.target.value,
        "at": t.at,
        "reason": t.reason,
        "detail": t.detail,
    }


def _transition_from_json(data: dict[str, Any]) -> Transition:
    source = data.get("source")
    return Transition(
        source=SessionState(source) if source else None,
        target=SessionState(data["target"]),
        at=float(data["at"]),
        reason=data.get("reason"),
        detail=data.get("detail"),
    )
