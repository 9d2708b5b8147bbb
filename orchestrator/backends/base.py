"""The SessionBackend seam: where streamers come from.

Two implementations share this interface and one contract test suite
(`tests/orchestrator/backends/test_backend_contract.py`): `LocalProcessBackend`
(processes on this machine, for `ixstream up` and the sandbox) and `KubernetesBackend`
(one pod per streamer). The shape follows Agones: streamers are started *before* anyone
asks for them (a warm pool) and a session *claims* one; a claim must be atomic, so two
sessions never get the same streamer (a process-local lock here, `resourceVersion`
optimistic concurrency on Kubernetes).

Each backend comes with its warm pool behind `WarmSupply` (`factory.create_backend`
pairs them): the local backend's is this replica's own (`orchestrator.pool.WarmPool`),
Kubernetes' is cluster-wide (`kubernetes.pool.ClusterWarmPool`), and the session
service cannot tell which it drives.

The backend is the source of truth for streamers: `list()` after a restart returns what
a previous orchestrator left, with the session each one is bound to.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal

from orchestrator.sessions.states import FailureReason

Codec = Literal["h264", "vp8"]
Source = Literal["scene", "test-pattern"]


@dataclass(frozen=True, slots=True)
class StreamerProfile:
    """Everything that is fixed when a streamer starts; warm streamers match on it.

    A session can claim a warm streamer only if the profile it needs equals the pool's;
    otherwise it cold-starts one (Agones' allocation selectors, reduced to equality).
    """

    source: Source
    scene: str | None
    width: int
    height: int
    fps: int
    codec: Codec
    stereo: bool
    bitrate_kbps: int

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "scene": self.scene,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "codec": self.codec,
            "stereo": self.stereo,
            "bitrate_kbps": self.bitrate_kbps,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StreamerProfile:
        return cls(
            source=data["source"],
            scene=data["scene"],
            width=int(data["width"]),
            height=int(data["height"]),
            fps=int(data["fps"]),
            codec=data["codec"],
            stereo=bool(data["stereo"]),
            bitrate_kbps=int(data["bitrate_kbps"]),
        )


class StreamerPhase(StrEnum):
    STARTING = "starting"
    READY = "ready"


@dataclass(frozen=True, slots=True)
class Streamer:
    """A streamer as the orchestrator sees it.

    `key` is the HS256 secret the streamer verifies session tokens with. Each streamer
    gets a fresh one when it is spawned; the session that claims it mints its tokens
    with that key, so a token for one session never opens another session's streamer
    (docs/orchestrator.md, "Claim handshake").
    """

    id: str
    profile: StreamerProfile
    key: str
    phase: StreamerPhase
    session_id: str | None
    base_url: str | None
    created_at: float
    ready_at: float | None = None

    def with_phase(self, phase: StreamerPhase, **changes: Any) -> Streamer:
        return replace(self, phase=phase, **changes)


@dataclass(frozen=True, slots=True)
class StreamerStatus:
    """The streamer's `GET /v1/status` (docs/streamer-contract.md), typed."""

    ready: bool
    viewers: int
    trainee_connected: bool
    frames_sent: int
    first_frame_sent_at: float | None
    last_viewer_left_at: float | None
    started_at: float | None
    #: The outcome once the session's scenario has ended (by a trigger or a command).
    scenario_outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What one look at a streamer found: is it alive, and what does it report."""

    alive: bool
    status: StreamerStatus | None = None
    detail: str | None = None
    #: Why a dead streamer died, where the backend can tell (a pod's node was lost, it
    #: was evicted); None: the session fails with `streamer_exited`.
    failure: FailureReason | None = None


def _optional_float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number or null, got {value!r}")
    return float(value)


def parse_status(payload: object) -> StreamerStatus:
    """Parse a `/v1/status` body, or raise `ValueError` saying which field is wrong."""
    if not isinstance(payload, dict):
        raise ValueError("streamer status is not a JSON object")
    viewers = payload.get("viewers")
    frames = payload.get("frames_sent", 0)
    if isinstance(viewers, bool) or not isinstance(viewers, int) or viewers < 0:
        raise ValueError(f"streamer status: viewers must be a non-negative int, got {viewers!r}")
    if isinstance(frames, bool) or not isinstance(frames, int):
        raise ValueError(f"streamer status: frames_sent must be an int, got {frames!r}")
    return StreamerStatus(
        ready=bool(payload.get("ready", False)),
        viewers=viewers,
        trainee_connected=bool(payload.get("trainee_connected", False)),
        frames_sent=frames,
        first_frame_sent_at=_optional_float(payload.get("first_frame_sent_at")),
        last_viewer_left_at=_optional_float(payload.get("last_viewer_left_at")),
        started_at=_optional_float(payload.get("started_at")),
        scenario_outcome=_scenario_outcome(payload.get("scenario")),
    )


def _scenario_outcome(scenario: object) -> str | None:
    """`scenario.outcome` when it is a string; a streamer without a scenario says null."""
    if isinstance(scenario, dict) and isinstance(scenario.get("outcome"), str):
        return str(scenario["outcome"])
    return None


class SessionBackend(abc.ABC):
    """Starts, hands out, watches and stops streamers.

    Every method is safe to call concurrently from one event loop. Methods that take a
    streamer id raise nothing for an unknown id except where documented: the reaper
    and shutdown paths call them on streamers that may already be gone.
    """

    name: str

    def pending_reason(self, streamer_id: str) -> str | None:
        """Why a started streamer still waits for a place to run (no free GPU), or None.
        Its session then reads `pending`, not `starting`: nothing is starting yet."""
        return None

    async def annotate_session(self, streamer_id: str, state: str, reason: str | None) -> None:
        """Record the state of the session a streamer serves where other replicas (and
        people) can read it. Nothing to do where no other replica exists."""
        return None

    @abc.abstractmethod
    def recorded_session_state(self, streamer_id: str) -> str | None:
        """The state of the session a streamer serves as this backend records it (None:
        nothing recorded). The reaper asks it about streamers bound to a session this
        replica does not know, and stops one only once the answer says `ending`,
        `ended` or `failed` (`sessions/orphans.py`)."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Acquire resources and load what a previous run left (see `list`)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release resources. Streamers keep running: ending them is the caller's choice."""

    @abc.abstractmethod
    async def spawn(self, profile: StreamerProfile, session_id: str | None) -> Streamer:
        """Start a streamer and return at once, in phase `starting`, with its key.

        `session_id` binds a cold-started streamer to its session from birth (and the
        streamer then accepts only tokens for that session); `None` starts a warm one.
        Raises `StreamerStartError` if it could not even be started.
        """

    @abc.abstractmethod
    async def wait_ready(self, streamer_id: str, timeout_s: float) -> Streamer:
        """Wait until the streamer answers `/readyz`; return it in phase `ready`.

        Raises `StreamerStartError` (reason `streamer_exited`, `start_timeout`) and
        leaves the streamer for the caller to `delete`.
        """

    @abc.abstractmethod
    async def claim(self, profile: StreamerProfile, session_id: str) -> Streamer | None:
        """Atomically bind one ready, unbound streamer of `profile` to `session_id`.

        Returns `None` when none is free. Two concurrent claims never return the same
        streamer, and a claimed streamer is never handed out again.
        """

    @abc.abstractmethod
    async def list(self) -> list[Streamer]:
        """Every streamer this backend manages, including those a previous run left."""

    @abc.abstractmethod
    async def observe(self, streamer_id: str) -> Observation:
        """Whether the streamer lives, and its `/v1/status` if it answered."""

    @abc.abstractmethod
    async def delete(self, streamer_id: str) -> None:
        """Stop the streamer (graceful, then forced) and forget it. Idempotent."""


@dataclass(frozen=True, slots=True)
class PoolFigures:
    """Warm streamers wanted, ready and starting."""

    desired: int
    ready: int
    starting: int


class WarmSupply(abc.ABC):
    """The warm pool a backend comes with: ready streamers of `profile` that a session
    claims instead of waiting for one to start (Agones' Fleet with a buffer).

    The session service drives it without knowing where it is kept: `reconcile` after
    every dispatch, `check_health` every poll, `owns` and `adopt` from the reaper and
    the restart recovery.
    """

    profile: StreamerProfile

    @abc.abstractmethod
    async def start(self, on_change: Callable[[], None]) -> None:
        """Begin keeping the pool; `on_change` is called when its streamers change (the
        session service's reconcile loop wakes on it)."""

    @abc.abstractmethod
    async def close(self, *, stop_streamers: bool) -> None:
        """Stop keeping the pool; with `stop_streamers`, stop the warm streamers that
        are this replica's to stop (else they stay for the next run to re-adopt)."""

    @abc.abstractmethod
    async def claim(self, profile: StreamerProfile, session_id: str) -> Streamer | None:
        """Bind a ready streamer of `profile` to `session_id`, or None (none free, or a
        profile the pool does not keep)."""

    @abc.abstractmethod
    def reconcile(self, *, max_sessions: int, holding: int) -> None:
        """Start or retire warm streamers given this replica's capacity. Never blocks."""

    @abc.abstractmethod
    async def check_health(self) -> None:
        """Drop warm streamers that died, so the next `reconcile` replaces them."""

    @abc.abstractmethod
    def owns(self, streamer: Streamer) -> bool:
        """Whether `streamer` is the pool's (the reaper leaves it alone)."""

    @abc.abstractmethod
    async def adopt(self, streamer: Streamer) -> bool:
        """Restart recovery: take over an unbound streamer a previous run left. False
        when the pool will not have it (dead, another profile): it is to be reaped."""

    @abc.abstractmethod
    def figures(self) -> PoolFigures:
        """The pool as operators see it (`/v1/pool`): cluster-wide where it is kept."""

    @abc.abstractmethod
    def kept_here(self) -> PoolFigures:
        """The warm streamers this replica itself keeps, for its per-replica gauge
        (summed across replicas, so a pool kept cluster-wide counts none here)."""
