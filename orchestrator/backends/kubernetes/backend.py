"""KubernetesBackend: one streamer pod per session, GPU-scheduled, claimed safely.

The cluster is the source of truth (DESIGN.md §3): each streamer is a pod whose labels
and annotations say what it is (profile), whom it serves (session) and who claimed it;
its token key is derived from its name and the shared seed (`keys`), so it is never
read back from the cluster. The backend keeps no state of its own beyond a watch cache
of pods, so an orchestrator that restarts, or a second replica beside it, rebuilds the
same view from one list and a watch (`cache`). It never reads a Secret: the Role it
needs (`k8s/rbac.yaml`) may only create them.

- spawn: the pod, under a name chosen here (the `generateName` pattern; another on a
  409 AlreadyExists), then its key Secret `<pod>-key`, owned by the pod from birth so
  garbage collection deletes it with the pod (the kubelet starts the container once the
  Secret exists); in `service` signalling mode a per-pod Service owned by the pod too.
  A failed Secret create deletes the pod. The pair is shielded from cancellation, so a
  pod is never left waiting for a key nobody will create.
- wait_ready: follows the pod through the watch: Ready → ready; a terminal state
  (crash, eviction, node lost, image pull error) → `StreamerStartError` with the
  reason and the container log's tail; `Unschedulable` (no free GPU) → keeps waiting,
  up to `max_unschedulable_s`, and the start timeout counts from scheduling.
- claim: `claims.Claimer` flips a ready warm pod of the profile to `bound` with a
  merge patch that carries the resourceVersion it read; a 409 Conflict means another
  replica won, so it tries another pod after a jittered back-off. Two claims can never
  both succeed on one pod.
- observe: the pod's fate from the cache (node lost, evicted, crashed: within the
  watch's latency), else the streamer's `/v1/status`; a streamer that does not answer
  is checked against a fresh read of its pod before anything is concluded.
- delete: graceful (`terminationGracePeriodSeconds`), forced for pods on a lost node
  (their kubelet will never confirm), and waits until the pod is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import httpx
import structlog
from prometheus_client import CollectorRegistry

from orchestrator.backends.base import (
    Observation,
    SessionBackend,
    Streamer,
    StreamerPhase,
    StreamerProfile,
    parse_status,
)
from orchestrator.backends.kubernetes import manifests as m
from orchestrator.backends.kubernetes.cache import Informer
from orchestrator.backends.kubernetes.claims import Claimer, ClaimOutcome, ClaimPolicy
from orchestrator.backends.kubernetes.client import KubeApiError, KubeClient, policy_of
from orchestrator.backends.kubernetes.keys import streamer_key
from orchestrator.backends.kubernetes.metrics import KubernetesMetrics
from orchestrator.backends.kubernetes.packing import NodeLoad
from orchestrator.backends.kubernetes.retry import Retrier
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.backends.kubernetes.status import (
    Fate,
    is_ready,
    is_scheduled,
    parse_time,
    pod_fate,
    ready_since,
    unschedulable,
)
from orchestrator.backends.kubernetes.warm_index import WarmIndex
from orchestrator.backends.log_tail import log_tail_detail
from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import BackendError, ConfigurationError, StreamerStartError
from orchestrator.ice.issuer import IceIssuer, ice_servers_env
from orchestrator.sessions.states import FailureReason
from orchestrator.tokens import control_headers

log = structlog.get_logger("orchestrator.backends.kubernetes")

Pod = dict[str, Any]
#: The session's state and reason, mirrored onto its pod by the replica that owns it.
SESSION_STATE_ANNOTATION = "ixstream.io/session-state"
SESSION_REASON_ANNOTATION = "ixstream.io/session-reason"
DELETE_WAIT_MARGIN_S = 10.0
FORCED_DELETE_WAIT_S = 5.0
#: Pod names tried per spawn: a taken name (409 AlreadyExists) is one chance in 27^5.
NAME_ATTEMPTS = 5


@lru_cache(maxsize=256)
def _profile(annotation: str) -> StreamerProfile:
    return StreamerProfile.from_json(json.loads(annotation))


class KubernetesBackend(SessionBackend):
    name = "kubernetes"

    def __init__(
        self,
        settings: KubernetesSettings,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
        cors_origins: Sequence[str] = (),
        ice: IceIssuer | None = None,
    ) -> None:
        if settings.streamer_key_seed is None:
            raise ConfigurationError(
                "the kubernetes backend needs streamer_key_seed to derive streamer keys from"
            )
        self.settings = settings
        self._cors_origins = tuple(cors_origins)  # passed on to each pod (CORS)
        self._ice = ice  # passed on to each pod: its own TURN credentials
        self._seed = settings.streamer_key_seed.get_secret_value()
        self.metrics = KubernetesMetrics(registry)
        self._clock = clock or SystemClock()
        self._client = KubeClient(
            settings, Retrier(policy_of(settings), on_retry=self._count_retry)
        )
        self._pods = Informer(
            self._client,
            m.managed_selector(settings),
            self._on_pod,
            on_relist=self.metrics.relists.inc,
            transform=slim_pod,
        )
        self._http: httpx.AsyncClient | None = None
        self._replica = settings.replica_id or socket.gethostname()
        self.node_load = NodeLoad(self._replica)  # sessions per node, for packed claims
        ranking = self.node_load.preferred if settings.claim_placement == "pack" else None
        self._warm = WarmIndex(ranking)  # profile hash -> ready warm pod names
        self._claims = Claimer(
            self._client,
            self._pods.objects,
            self._warm,
            lambda answer: self._view(slim_pod(answer)),
            self.metrics,
            policy=ClaimPolicy(settings.claim_attempts, settings.claim_backoff_s),
            replica=self._replica,
            clock=self._clock,
        )
        self._deleting: dict[str, asyncio.Task[None]] = {}
        self._views: dict[str, tuple[str, Streamer]] = {}
        self._counted_fates: set[str] = set()

    def _count_retry(self, call: str) -> None:
        self.metrics.api_retries.labels(call).inc()

    # --- lifecycle of the backend -------------------------------------------------------

    async def open(self) -> None:
        await self._client.open()
        try:
            await self._pods.start()
        except BaseException:
            await self.close()
            raise
        # trust_env=False: streamers are reached directly; an HTTP(S)_PROXY must not apply.
        self._http = httpx.AsyncClient(trust_env=False, timeout=self.settings.request_timeout_s)
        log.info(
            "kubernetes.opened",
            namespace=self.settings.namespace,
            streamers=len(self._pods.objects),
            replica=self._replica,
        )

    async def close(self) -> None:
        if self._deleting:
            await asyncio.gather(*self._deleting.values(), return_exceptions=True)
        await self._pods.close()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        await self._client.close()

    # --- SessionBackend ----------------------------------------------------------------

    async def spawn(self, profile: StreamerProfile, session_id: str | None) -> Streamer:
        # Shielded: a caller that stops waiting does not leave a pod without its key.
        task = asyncio.get_running_loop().create_task(
            self._spawn(profile, session_id), name="spawn"
        )
        return await asyncio.shield(task)

    async def _spawn(self, profile: StreamerProfile, session_id: str | None) -> Streamer:
        pod = await self._create_pod(profile, session_id)
        name = pod["metadata"]["name"]
        try:
            await self._client.create_secret(m.key_secret(self.settings, pod, self._key(name)))
        except KubeApiError as exc:
            with contextlib.suppress(BackendError):
                await self._request_delete(name, 0)  # its container never started
            raise StreamerStartError(FailureReason.SPAWN_FAILED, f"key secret: {exc}") from exc
        self._pods.add_if_absent(pod)
        if self.settings.signalling == "service":
            await self._create_service(pod)
        log.info("streamer.spawned", streamer=name, session=session_id)
        return self._view(pod)

    async def _create_pod(self, profile: StreamerProfile, session_id: str | None) -> Pod:
        """Create the streamer pod under a fresh name; another name if it is taken."""
        taken: KubeApiError | None = None
        for _ in range(NAME_ATTEMPTS):
            name = m.streamer_pod_name(self.settings, _name_suffix())
            manifest = m.streamer_pod(
                self.settings,
                profile,
                session_id,
                name=name,
                ice_servers_json=self._ice_servers(session_id or name),
                streamer_id=secrets.token_hex(5) if self.settings.signalling == "service" else None,
                cors_origins=self._cors_origins,
            )
            try:
                return await self._client.create_pod(manifest)
            except KubeApiError as exc:
                if exc.reason != "AlreadyExists":
                    raise StreamerStartError(
                        FailureReason.SPAWN_FAILED, f"the API refused the streamer pod: {exc}"
                    ) from exc
                taken = exc
        raise StreamerStartError(
            FailureReason.SPAWN_FAILED, f"{NAME_ATTEMPTS} pod names in a row were taken: {taken}"
        )

    async def _create_service(self, pod: Pod) -> None:
        try:
            await self._client.create_service(m.streamer_service(self.settings, pod))
        except KubeApiError as exc:
            # The pod still works through its IP; the Service would only add a name.
            log.warning("streamer.service_failed", streamer=pod["metadata"]["name"], error=str(exc))

    def _ice_servers(self, subject: str) -> str:
        """The pod's ICE servers: none unless configured (no public STUN by default)."""
        return ice_servers_env(self._ice.servers_for(subject) if self._ice is not None else [])

    async def wait_ready(self, streamer_id: str, timeout_s: float) -> Streamer:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline: float | None = None
        while True:
            pod = self._pods.objects.get(streamer_id)
            if pod is None:
                raise StreamerStartError(
                    FailureReason.STREAMER_EXITED,
                    f"streamer pod {streamer_id} was deleted before it was ready",
                )
            fate = pod_fate(pod)
            if fate is not None:
                self._count_fate(streamer_id, fate.fate)
                tail = await self._log_tail(streamer_id)
                raise StreamerStartError(
                    fate.fate.failure_reason, f"{fate.detail} before it was ready{tail}"
                )
            if is_ready(pod):
                return self._view(pod)
            now = loop.time()
            waiting_for_gpu = unschedulable(pod)
            if waiting_for_gpu is not None:
                deadline = None
                if now - started >= self.settings.max_unschedulable_s:
                    raise StreamerStartError(
                        FailureReason.START_TIMEOUT,
                        f"no node could take streamer pod {streamer_id} for "
                        f"{self.settings.max_unschedulable_s:g} s: {waiting_for_gpu}",
                    )
            elif deadline is None:
                deadline = now + timeout_s
            if deadline is not None and now >= deadline:
                raise StreamerStartError(
                    FailureReason.START_TIMEOUT,
                    f"streamer pod {streamer_id} was not ready after {timeout_s:g} s "
                    f"(phase {(pod.get('status') or {}).get('phase')})"
                    f"{await self._log_tail(streamer_id)}",
                )
            budget = 1.0 if deadline is None else max(0.01, min(1.0, deadline - now))
            await self._pods.changed(streamer_id, budget)

    async def claim(self, profile: StreamerProfile, session_id: str) -> Streamer | None:
        return (await self.claim_with_outcome(profile, session_id)).streamer

    async def claim_with_outcome(self, profile: StreamerProfile, session_id: str) -> ClaimOutcome:
        """`claim`, reporting how many attempts and conflicts it took (`claims`)."""
        return await self._claims.claim(profile, session_id)

    async def list(self) -> list[Streamer]:
        return [
            self._claims.overlay(name) or self._view(pod)
            for name, pod in list(self._pods.objects.items())
            if name not in self._deleting and not pod["metadata"].get("deletionTimestamp")
        ]

    async def observe(self, streamer_id: str) -> Observation:
        pod = self._pods.objects.get(streamer_id)
        if pod is None:
            return Observation(alive=False, detail=f"streamer pod {streamer_id} is gone")
        fate = pod_fate(pod)
        if fate is not None:
            self._count_fate(streamer_id, fate.fate)
            return Observation(
                alive=False,
                detail=fate.detail + await self._log_tail(streamer_id),
                failure=fate.fate.failure_reason,
            )
        waiting_for_gpu = unschedulable(pod)
        if waiting_for_gpu is not None:
            return Observation(alive=True, detail=f"waiting for a node: {waiting_for_gpu}")
        if not is_ready(pod):
            return Observation(alive=True, detail="not ready yet")
        base_url = self._base_url(pod)
        view = self._claims.overlay(streamer_id) or self._view(pod)
        headers = control_headers(view.key, view.session_id)  # /v1/status is not public
        try:
            response = await self._client_http().get(f"{base_url}/v1/status", headers=headers)
            response.raise_for_status()
            return Observation(alive=True, status=parse_status(response.json()))
        except (httpx.HTTPError, ValueError) as exc:
            return await self._confirm(streamer_id, f"status unavailable: {exc!r}")

    async def _confirm(self, streamer_id: str, detail: str) -> Observation:
        """The streamer did not answer: read its pod afresh before concluding anything
        (the watch may not have delivered its end yet)."""
        try:
            pod = await self._client.get_pod(streamer_id)
        except KubeApiError as exc:
            if exc.status == 404:
                return Observation(alive=False, detail=f"streamer pod {streamer_id} is gone")
            return Observation(alive=True, detail=detail)
        fate = pod_fate(pod)
        if fate is None:
            return Observation(alive=True, detail=detail)
        self._count_fate(streamer_id, fate.fate)
        return Observation(
            alive=False,
            detail=fate.detail + await self._log_tail(streamer_id),
            failure=fate.fate.failure_reason,
        )

    async def delete(self, streamer_id: str) -> None:
        task = self._deleting.get(streamer_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._delete(streamer_id), name=f"delete:{streamer_id}"
            )
            self._deleting[streamer_id] = task
            task.add_done_callback(lambda _: self._deleting.pop(streamer_id, None))
        # Shielded: a caller that stops waiting does not leave a half-deleted pod.
        await asyncio.shield(task)

    # --- beyond the interface ---------------------------------------------------------

    @property
    def client(self) -> KubeClient:
        return self._client

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def replica_id(self) -> str:
        return self._replica

    def pods(self) -> dict[str, Pod]:
        """The watch cache: every managed pod by name (read-only by convention)."""
        return self._pods.objects

    def warm_ready(self, profile_hash: str) -> tuple[str, ...]:
        """Ready warm pods of a profile that no claim of ours is touching, oldest first."""
        names = [n for n in self._warm.members(profile_hash) if not self._claims.busy(n)]
        return tuple(
            sorted(names, key=lambda n: self._pods.objects[n]["metadata"]["creationTimestamp"])
        )

    def pending_reason(self, streamer_id: str) -> str | None:
        """Why a streamer is still waiting for a node (no free GPU), or None."""
        pod = self._pods.objects.get(streamer_id)
        return unschedulable(pod) if pod is not None else None

    async def annotate_session(self, streamer_id: str, state: str, reason: str | None) -> None:
        """Record the session's state on its pod (`ixstream.io/session-state`), so that
        `kubectl get pods` shows it and a restarted orchestrator can read it back."""
        annotations = {SESSION_STATE_ANNOTATION: state, SESSION_REASON_ANNOTATION: reason}
        with contextlib.suppress(KubeApiError):
            updated = await self._client.merge_patch_pod(
                streamer_id, {"metadata": {"annotations": annotations}}
            )
            # Unless the watch already delivered the pod's deletion: applying the patch's
            # answer then would bring a deleted pod back into the cache.
            if streamer_id in self._pods.objects:
                self._pods.apply("MODIFIED", updated)

    def recorded_session_state(self, streamer_id: str) -> str | None:
        """The session state `annotate_session` left on the pod (any replica's)."""
        pod = self._pods.objects.get(streamer_id)
        if pod is None:
            return None
        return (pod["metadata"].get("annotations") or {}).get(SESSION_STATE_ANNOTATION)

    # --- internals ---------------------------------------------------------------------

    def _on_pod(self, event_type: str, pod: Pod) -> None:
        """Keep the warm index and the claim overlay in step with the cache."""
        meta = pod["metadata"]
        name = meta["name"]
        labels = meta.get("labels") or {}
        if event_type == "DELETED" or labels.get(m.STATE) != m.WARM:
            self._claims.settle(name)
        if event_type == "DELETED":
            self._views.pop(name, None)
            self._counted_fates.discard(name)
        profile = labels.get(m.PROFILE, "")
        warm = event_type != "DELETED" and labels.get(m.STATE) == m.WARM and is_ready(pod)
        node = (pod.get("spec") or {}).get("nodeName") if event_type != "DELETED" else None
        mine = (meta.get("annotations") or {}).get(m.CLAIMED_BY_ANNOTATION) == self._replica
        self.node_load.place(name, node, labels.get(m.STATE) == m.BOUND, mine)
        self._warm.set(profile, name, warm, node or "")

    def _key(self, pod_name: str) -> str:
        """The pod's key: derived, the same on every replica (`keys`)."""
        return streamer_key(self._seed, pod_name)

    def _base_url(self, pod: Pod) -> str:
        if self.settings.signalling == "service":
            streamer_id = pod["metadata"]["labels"][m.STREAMER_ID]
            host = f"{m.service_name(self.settings, streamer_id)}.{self.settings.namespace}.svc"
        else:
            ip = (pod.get("status") or {}).get("podIP", "")
            host = f"[{ip}]" if ":" in ip else ip
        return f"http://{host}:{self.settings.port}"

    def _view(self, pod: Pod) -> Streamer:
        meta = pod["metadata"]
        cached = self._views.get(meta["name"])
        if cached is not None and cached[0] == meta["resourceVersion"]:
            return cached[1]
        annotations = meta.get("annotations") or {}
        ready = is_ready(pod)
        view = Streamer(
            id=meta["name"],
            profile=_profile(annotations[m.PROFILE_ANNOTATION]),
            key=self._key(meta["name"]),
            phase=StreamerPhase.READY if ready or pod_fate(pod) else StreamerPhase.STARTING,
            session_id=annotations.get(m.SESSION_ANNOTATION),
            base_url=self._base_url(pod) if ready else None,
            created_at=parse_time(meta.get("creationTimestamp")) or self._clock.now(),
            ready_at=ready_since(pod),
        )
        self._views[meta["name"]] = (meta["resourceVersion"], view)
        return view

    async def _delete(self, streamer_id: str) -> None:
        pod = self._pods.objects.get(streamer_id)
        if pod is None:
            try:
                pod = await self._client.get_pod(streamer_id)
            except KubeApiError as exc:
                if exc.status == 404:
                    return
                raise
        fate = pod_fate(pod)
        lost = fate is not None and fate.fate is Fate.NODE_LOST
        # A pod on a lost node would wait forever for its kubelet: force it (grace 0).
        grace = 0 if lost or not is_scheduled(pod) else None
        await self._request_delete(streamer_id, grace)
        wait_s = float(self.settings.stop_grace_s) + DELETE_WAIT_MARGIN_S
        if not await self._gone(streamer_id, wait_s):
            log.warning("streamer.force_delete", streamer=streamer_id, waited_s=wait_s)
            await self._request_delete(streamer_id, 0)
            if not await self._gone(streamer_id, FORCED_DELETE_WAIT_S):
                raise BackendError(f"streamer pod {streamer_id} survived a forced delete")
        # Its key Secret (and Service) follow through garbage collection: owned by the pod.
        log.info("streamer.deleted", streamer=streamer_id)

    async def _request_delete(self, streamer_id: str, grace: int | None) -> None:
        try:
            await self._client.delete_pod(streamer_id, grace)
        except KubeApiError as exc:
            if exc.status != 404:
                raise BackendError(f"deleting pod {streamer_id}: {exc}") from exc

    async def _gone(self, streamer_id: str, wait_s: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while streamer_id in self._pods.objects:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self._pods.changed(streamer_id, min(remaining, 1.0))
        return True

    async def _log_tail(self, streamer_id: str) -> str:
        try:
            text = await self._client.pod_log_tail(streamer_id)
        except (KubeApiError, OSError, TimeoutError):
            return ""
        return log_tail_detail(streamer_id, text)

    def _count_fate(self, streamer_id: str, fate: Fate) -> None:
        if streamer_id not in self._counted_fates:
            self._counted_fates.add(streamer_id)
            self.metrics.pod_failures.labels(fate.value).inc()

    def _client_http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise BackendError("the Kubernetes backend is not open")
        return self._http


def slim_pod(pod: Pod) -> Pod:
    """What the backend reads of a pod: metadata (no managedFields), the node it is
    bound to, and status. The spec is the backend's own and is never read back."""
    meta = {k: v for k, v in pod["metadata"].items() if k != "managedFields"}
    spec = {"nodeName": pod["spec"]["nodeName"]} if (pod.get("spec") or {}).get("nodeName") else {}
    return {"metadata": meta, "spec": spec, "status": pod.get("status") or {}}


def _name_suffix() -> str:
    """What `generateName` would append: 5 random characters of its alphabet."""
    return "".join(secrets.choice(m.NAME_SUFFIX_ALPHABET) for _ in range(m.NAME_SUFFIX_LENGTH))
