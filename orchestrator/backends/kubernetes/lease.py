"""Leader election with a coordination.k8s.io/v1 Lease (client-go's leaderelection,
reduced): one orchestrator replica at a time keeps the warm pool, so two replicas never
both top it up.

A replica holds the lease while it renews it within `leaseDurationSeconds`; another
takes it over only once it has expired. Every write replaces the Lease with the
resourceVersion read, so two replicas racing for an expired lease cannot both win
(the loser gets 409 Conflict). Time is our Clock against the lease's `renewTime`
(client-go instead times from when it last saw the record change); nodes are assumed
NTP-synchronised.

Why not `kubernetes_asyncio.leaderelection` (36.1.0, tried against the simulator): its
LeaseLock writes local wall time labelled UTC (`datetime.fromtimestamp(now)` + "Z", so
on a UTC-5 host a fresh renewTime reads five hours old to any other reader, e.g. a
replica of this version during an upgrade, which would take the lease at once), it
crashes on our float duration (`int("15.0")`), and it reads `time.time()`, not our Clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from orchestrator.backends.kubernetes.client import KubeApiError, KubeClient
from orchestrator.backends.kubernetes.status import parse_time
from orchestrator.clock import Clock


def _micro_time(unix: float) -> str:
    """A MicroTime (RFC 3339 with microseconds), as Lease times are written."""
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease_expired(lease: dict[str, Any], now: float) -> bool:
    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    duration = float(spec.get("leaseDurationSeconds") or 0)
    return renewed is None or renewed + duration < now


class LeaderLease:
    def __init__(
        self, client: KubeClient, name: str, identity: str, duration_s: float, clock: Clock
    ) -> None:
        self._client = client
        self._name = name
        self.identity = identity
        self._duration_s = duration_s
        self._clock = clock

    def _spec(self, acquired: str | None, transitions: int) -> dict[str, Any]:
        now = _micro_time(self._clock.now())
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, round(self._duration_s)),
            "acquireTime": acquired or now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    async def try_acquire_or_renew(self) -> bool:
        """One round: True if this replica holds the lease afterwards."""
        try:
            lease = await self._client.get_lease(self._name)
        except KubeApiError as exc:
            if exc.status != 404:
                return False
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self._name},
                "spec": self._spec(None, 0),
            }
            try:
                await self._client.create_lease(body)
            except KubeApiError:
                return False  # another replica created it first
            return True
        spec = lease.get("spec") or {}
        mine = spec.get("holderIdentity") == self.identity
        if not mine and not lease_expired(lease, self._clock.now()):
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if mine else 1)
        acquired = spec.get("acquireTime") if mine else None
        updated = {**lease, "spec": self._spec(acquired, transitions)}
        try:
            await self._client.replace_lease(self._name, updated)
        except KubeApiError:
            return False  # 409: someone renewed or took it since we read it
        return True
