"""The Kubernetes API as the backend uses it: a dozen calls over the official client's
asyncio port (`kubernetes_asyncio`), with JSON in and out.

The generated client authenticates (kubeconfig or in-cluster service account), builds
URLs and query strings, and speaks HTTP. Responses are read as plain JSON
(`_preload_content=False`) rather than as generated model objects: the backend works
on pod dicts through pure functions, and skipping model deserialisation keeps a claim
cheap. Error responses are `Status` objects (api-conventions.md, "Response Status
Kind"); they become `KubeApiError` with the HTTP code and the machine-readable
`reason`, which is all callers branch on (409 Conflict, 404 NotFound, 410 Gone).

Every call goes through one `Retrier` (`retry`): an API server under load answers 429
with `Retry-After`, or 5xx, or drops connections, and a call that met one of those is
tried again, within bounds, before its caller hears of it. Creates are idempotent
across those retries: each carries a request id (`REQUEST_ID_ANNOTATION`), and a retry
that meets 409 AlreadyExists after a lost answer reads the object and returns it when
the id is ours. Lists are paginated (`limit`/`continue`, api-concepts.md, "Retrieving
large results sets in chunks").
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from kubernetes_asyncio import client, config

from orchestrator.backends.kubernetes.errors import KubeApiError, retry_after_s
from orchestrator.backends.kubernetes.retry import Retrier, RetryPolicy
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.errors import BackendError

__all__ = ["KubeApiError", "KubeClient", "Obj"]

Obj = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"
#: Written on every object this client creates: tells our own create, answered late
#: through a retry, from somebody else's object of the same name.
REQUEST_ID_ANNOTATION = "ixstream.io/create-request"
#: Restarts of a paginated list whose continue token expired (410) before giving up.
LIST_RESTARTS = 3


async def _raise_for_status(response: aiohttp.ClientResponse) -> None:
    if 200 <= response.status < 300:
        return
    raw = await response.read()
    response.release()
    header = response.headers.get("Retry-After")
    try:
        body = json.loads(raw)
        raise KubeApiError(
            response.status,
            str(body.get("reason", "")),
            str(body.get("message")),
            retry_after_s=retry_after_s(header, body),
        )
    except (ValueError, AttributeError):
        raise KubeApiError(
            response.status,
            "",
            raw.decode(errors="replace")[:300],
            retry_after_s=retry_after_s(header, None),
        ) from None


def policy_of(settings: KubernetesSettings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.api_retry_attempts,
        deadline_s=settings.api_retry_deadline_s,
        base_s=settings.api_retry_base_s,
        cap_s=settings.api_retry_cap_s,
    )


def _with_request_id(body: Obj, request_id: str) -> Obj:
    meta = dict(body.get("metadata") or {})
    meta["annotations"] = {**(meta.get("annotations") or {}), REQUEST_ID_ANNOTATION: request_id}
    return {**body, "metadata": meta}


class KubeClient:
    """One API client (one connection pool) for one namespace."""

    def __init__(self, settings: KubernetesSettings, retrier: Retrier | None = None) -> None:
        self._settings = settings
        self.namespace = settings.namespace
        self.retrier = retrier or Retrier(policy_of(settings))
        self._api_client: client.ApiClient | None = None
        # Typed as Any: the generated stubs promise model objects, but with
        # `_preload_content=False` the calls return raw aiohttp responses.
        self._core: Any = None
        self._coordination: Any = None

    async def open(self) -> None:
        configuration = client.Configuration()
        if self._settings.kubeconfig is not None:
            await config.load_kube_config(
                config_file=str(self._settings.kubeconfig),
                context=self._settings.context,
                client_configuration=configuration,
            )
        else:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        configuration.connection_pool_maxsize = 32
        self._api_client = client.ApiClient(configuration)
        self._core = client.CoreV1Api(self._api_client)
        self._coordination = client.CoordinationV1Api(self._api_client)

    async def close(self) -> None:
        if self._api_client is not None:
            await self._api_client.close()
            self._api_client = self._core = self._coordination = None

    @property
    def core(self) -> Any:
        if self._core is None:
            raise BackendError("the Kubernetes client is not open")
        return self._core

    @property
    def coordination(self) -> Any:
        if self._coordination is None:
            raise BackendError("the Kubernetes client is not open")
        return self._coordination

    async def _json(self, what: str, call: Callable[[], Awaitable[Any]]) -> Obj:
        """One request, retried as the policy allows, its body read as JSON.

        The body is read inside the retried step: a connection dropped mid-body is as
        retryable as one dropped before the status line.
        """

        async def once() -> Obj:
            response: aiohttp.ClientResponse = await call()
            await _raise_for_status(response)
            try:
                body: Obj = json.loads(await response.read())
            finally:
                response.release()
            return body

        return await self.retrier.run(what, once)

    async def _create(
        self,
        what: str,
        create: Callable[[Obj], Awaitable[Any]],
        read: Callable[[str], Awaitable[Obj]] | None,
        body: Obj,
    ) -> Obj:
        """Create `body` (which has a name) exactly once, however often it is retried.

        After a try whose answer was lost the object may exist already: the next try
        meets 409 AlreadyExists. With `read`, the object is ours when it carries this
        create's request id, and anyone else's is the caller's 409. Without `read`
        (objects our Role may create but not read), the caller vouches that nobody else
        creates that name, so the object can only be our own first try.
        """
        request_id = secrets.token_hex(8)
        tagged = _with_request_id(body, request_id)
        try:
            return await self._json(what, lambda: create(tagged))
        except KubeApiError as exc:
            if exc.reason != "AlreadyExists" or not exc.after_unknown_outcome:
                raise
            if read is None:
                return tagged
            existing = await read(str(body["metadata"]["name"]))
            annotations = existing.get("metadata", {}).get("annotations") or {}
            if annotations.get(REQUEST_ID_ANNOTATION) != request_id:
                raise
            return existing

    def _timeout(self) -> float:
        return self._settings.request_timeout_s

    @property
    def watch_idle_s(self) -> float:
        """How long a watch may stay silent before it is presumed dead, seconds."""
        return self._settings.watch_idle_s()

    # --- pods ----------------------------------------------------------------------------

    async def create_pod(self, body: Obj) -> Obj:
        return await self._create(
            "create_pod",
            lambda b: self.core.create_namespaced_pod(
                self.namespace, b, _preload_content=False, _request_timeout=self._timeout()
            ),
            self.get_pod,
            body,
        )

    async def get_pod(self, name: str) -> Obj:
        return await self._json(
            "get_pod",
            lambda: self.core.read_namespaced_pod(
                name, self.namespace, _preload_content=False, _request_timeout=self._timeout()
            ),
        )

    async def merge_patch_pod(self, name: str, body: Obj) -> Obj:
        return await self._json(
            "patch_pod",
            lambda: self.core.patch_namespaced_pod(
                name,
                self.namespace,
                body,
                _content_type=MERGE_PATCH,
                _preload_content=False,
                _request_timeout=self._timeout(),
            ),
        )

    async def delete_pod(self, name: str, grace_s: int | None = None) -> Obj:
        options: Obj = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if grace_s is not None:
            options["gracePeriodSeconds"] = grace_s
        return await self._json(
            "delete_pod",
            lambda: self.core.delete_namespaced_pod(
                name,
                self.namespace,
                body=options,
                _preload_content=False,
                _request_timeout=self._timeout(),
            ),
        )

    async def list_pods(self, selector: str) -> Obj:
        """Every matching pod, read a page (`list_page_size`) at a time.

        The answer is one list whose `resourceVersion` is the first page's: every page
        of a paginated list is served from that one snapshot (api-concepts.md,
        "Retrieving large results sets in chunks"), so a watch from it misses nothing.
        A continue token that expired meanwhile (410) restarts the list.
        """
        for _ in range(LIST_RESTARTS):
            try:
                return await self._list_pages(selector)
            except KubeApiError as exc:
                if exc.status != 410:
                    raise
        return await self._list_pages(selector)

    async def _list_pages(self, selector: str) -> Obj:
        first = await self._list_page(selector, None)
        items: list[Obj] = list(first.get("items") or [])
        token = (first.get("metadata") or {}).get("continue")
        while token:
            page = await self._list_page(selector, str(token))
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
        meta = {
            k: v
            for k, v in first["metadata"].items()
            if k not in ("continue", "remainingItemCount")
        }
        return {**first, "items": items, "metadata": meta}

    async def _list_page(self, selector: str, token: str | None) -> Obj:
        extra: Obj = {} if token is None else {"_continue": token}
        return await self._json(
            "list_pods",
            lambda: self.core.list_namespaced_pod(
                self.namespace,
                label_selector=selector,
                limit=self._settings.list_page_size,
                _preload_content=False,
                _request_timeout=self._timeout(),
                **extra,
            ),
        )

    async def pod_log_tail(self, name: str, lines: int = 20) -> str:
        async def once() -> str:
            response: aiohttp.ClientResponse = await self.core.read_namespaced_pod_log(
                name,
                self.namespace,
                tail_lines=lines,
                _preload_content=False,
                _request_timeout=self._timeout(),
            )
            await _raise_for_status(response)
            try:
                return (await response.read()).decode(errors="replace")
            finally:
                response.release()

        return await self.retrier.run("pod_log", once)

    # --- secrets and services (created only: never read back, gone with their pod) ----------
    # Their names derive from their pod's (ours alone) and the Role we ship may create
    # but never read them (k8s/rbac.yaml): a create retried after a lost answer that
    # meets AlreadyExists met its own first try.

    async def create_secret(self, body: Obj) -> Obj:
        return await self._create(
            "create_secret",
            lambda b: self.core.create_namespaced_secret(
                self.namespace, b, _preload_content=False, _request_timeout=self._timeout()
            ),
            None,
            body,
        )

    async def create_service(self, body: Obj) -> Obj:
        return await self._create(
            "create_service",
            lambda b: self.core.create_namespaced_service(
                self.namespace, b, _preload_content=False, _request_timeout=self._timeout()
            ),
            None,
            body,
        )

    # --- leases (leader election) ---------------------------------------------------------

    async def get_lease(self, name: str) -> Obj:
        return await self._json(
            "get_lease",
            lambda: self.coordination.read_namespaced_lease(
                name, self.namespace, _preload_content=False, _request_timeout=self._timeout()
            ),
        )

    async def create_lease(self, body: Obj) -> Obj:
        return await self._create(
            "create_lease",
            lambda b: self.coordination.create_namespaced_lease(
                self.namespace, b, _preload_content=False, _request_timeout=self._timeout()
            ),
            self.get_lease,
            body,
        )

    async def replace_lease(self, name: str, body: Obj) -> Obj:
        return await self._json(
            "replace_lease",
            lambda: self.coordination.replace_namespaced_lease(
                name, self.namespace, body, _preload_content=False, _request_timeout=self._timeout()
            ),
        )

    # --- nodes (read only) -------------------------------------------------------------

    async def list_cordoned_nodes(self) -> Obj:
        """Nodes marked unschedulable (`kubectl cordon`, the first step of a drain),
        selected by the server (`spec.unschedulable` is a node field selector)."""
        return await self._json(
            "list_cordoned_nodes",
            lambda: self.core.list_node(
                field_selector="spec.unschedulable=true",
                _preload_content=False,
                _request_timeout=self._timeout(),
            ),
        )

    # --- watching -------------------------------------------------------------------------

    async def watch_pods(self, selector: str, resource_version: str) -> AsyncIterator[Obj]:
        """Watch pod events after `resource_version` until the server ends the stream.

        The server ends it after `timeoutSeconds`; a connection that dies silently
        would never end, so reading is bounded too: no line (event or bookmark) for
        `watch_idle_s` raises `TimeoutError` (aiohttp's `sock_read`), and the caller
        lists again. A `410 Gone` (as an ERROR event, the API server's way, or as an
        HTTP status) raises `KubeApiError(410)`: the caller must list again
        (api-concepts.md, "Efficient detection of changes").
        """
        idle = self.watch_idle_s
        response: aiohttp.ClientResponse = await self.core.list_namespaced_pod(
            self.namespace,
            label_selector=selector,
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=self._settings.watch_timeout_s,
            _preload_content=False,
            _request_timeout=aiohttp.ClientTimeout(
                connect=self._timeout(), sock_connect=self._timeout(), sock_read=idle
            ),
        )
        await _raise_for_status(response)
        try:
            async for line in response.content:
                if not line.strip():
                    continue
                event: Obj = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise KubeApiError(
                        int(status.get("code", 500)),
                        str(status.get("reason")),
                        str(status.get("message")),
                    )
                yield event
        finally:
            response.release()
