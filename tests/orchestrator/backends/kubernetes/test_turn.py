"""Streamer pods get the orchestrator's ICE servers: TURN credentials minted for
their session (or their own name while warm), and nothing at all by default."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

from kubesim import kinds
from kubesim.serve import RunningSimulator
from orchestrator.backends.kubernetes.backend import KubernetesBackend
from orchestrator.clock import SystemClock
from orchestrator.ice.issuer import IceIssuer
from orchestrator.ice.settings import IceSettings
from tests.kubesim.harness import NAMESPACE, PROFILE, cluster, opened, settings, simulated

SECRET = "Tq7Wm2Xz9Lk4Rb8Nc1Vd6Hs3Pf5Gj0Ya"


@contextlib.asynccontextmanager
async def with_ice(sim: RunningSimulator, ice: IceSettings) -> AsyncIterator[KubernetesBackend]:
    backend = KubernetesBackend(settings(sim), ice=IceIssuer(ice, SystemClock()))
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


async def test_a_spawned_pod_carries_turn_credentials_and_nothing_else(tmp_path: Path) -> None:
    turn = IceSettings.model_validate(
        {"turn_uris": ["turn:turn.internal:3478"], "turn_secret": SECRET, "turn_ttl_s": 600}
    )
    async with simulated(cluster(nodes=1, gpus=1), tmp_path) as sim:
        async with opened(sim) as plain:
            bare = await plain.spawn(PROFILE, "s-1")
        async with with_ice(sim, turn) as with_turn:
            relayed = await with_turn.spawn(PROFILE, "s-2")

        def ice(name: str) -> list[dict[str, object]]:
            pod = sim.cluster.store.get(kinds.PODS, NAMESPACE, name)
            env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
            servers: list[dict[str, object]] = json.loads(env["IXS_STREAMER_ICE_SERVERS"]["value"])
            return servers

        assert ice(bare.id) == []
        (server,) = ice(relayed.id)
        assert server["urls"] == ["turn:turn.internal:3478"]
        expiry, subject = str(server["username"]).split(":")
        assert subject == "s-2"
        assert 590 <= int(expiry) - time.time() <= 600
