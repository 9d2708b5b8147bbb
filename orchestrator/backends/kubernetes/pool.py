"""The Kubernetes backend's `WarmSupply`: one warm pool for the whole cluster.

Every replica runs a `WarmFleet`, whose leader (one Lease) keeps
`kubernetes.pool_buffer` ready pods for all of them (`fleet.py`); a replica only claims
from it. So, seen from a replica's session service: `reconcile` and `check_health` have
nothing to do (the keeper starts, retires and reaps warm pods), every unbound pod is the
pool's (a replica never reaps one, nor stops one at shutdown: the next keeper takes
them over), and the figures operators see are the fleet's.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.backends.base import PoolFigures, Streamer, StreamerProfile, WarmSupply
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.backends.kubernetes.fleet import WarmFleet


def _unchanged() -> None:
    """`on_change` until `start` hands the real one over."""


class ClusterWarmPool(WarmSupply):
    def __init__(
        self, backend: KubernetesBackend, profile: StreamerProfile, *, start_timeout_s: float
    ) -> None:
        self.profile = profile
        self.fleet = WarmFleet(backend, profile, start_timeout_s=start_timeout_s)
        self._backend = backend
        self._on_change: Callable[[], None] = _unchanged

    async def start(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        await self.fleet.start()

    async def close(self, *, stop_streamers: bool) -> None:
        """Stop this replica's fleet loop; the warm pods stay whatever `stop_streamers`
        says: another replica's keeper takes them over."""
        await self.fleet.close()

    async def claim(self, profile: StreamerProfile, session_id: str) -> Streamer | None:
        if profile != self.profile:
            return None
        streamer = await self._backend.claim(profile, session_id)
        if streamer is not None:
            self._on_change()
        return streamer

    def reconcile(self, *, max_sessions: int, holding: int) -> None:
        """Nothing: the fleet's leader sizes the pool (`pool_size` does not apply)."""

    async def check_health(self) -> None:
        """Nothing: the fleet's leader reaps warm pods that can no longer serve."""

    def owns(self, streamer: Streamer) -> bool:
        """Every unbound pod: warm pods are the cluster-wide keeper's to retire."""
        return streamer.session_id is None

    async def adopt(self, streamer: Streamer) -> bool:
        """Leaves an unbound pod to the keeper (it is the pool's already)."""
        return streamer.session_id is None

    def figures(self) -> PoolFigures:
        count = self.fleet.count()
        return PoolFigures(self.fleet.buffer, count.ready, count.starting)

    def kept_here(self) -> PoolFigures:
        """None: this replica claims from the cluster-wide pool but keeps no warm pod."""
        return PoolFigures(0, 0, 0)
