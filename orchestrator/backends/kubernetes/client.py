"""The Kubernetes API as the backend uses it: a dozen calls over the official client's
asyncio port (`kubernetes_asyncio`), with JSON in and out.

The generated client authenticates (kubeconfig or in-cluster service account), builds
URLs and query strings, and speaks HTTP. Responses are read as plain JSON
(`_preload_content=False`) rather than as generated model objects: the backend works
on pod dicts through pure functions, and skipping model deserialisation keeps a claim
cheap. Error responses are `Status` objects (api-conventions.md, "Response Status
Kind"); they become `KubeApiError` with the HTTP code and the machine-readable
`reason`, which is all callers branch on (409 Conflict, 404 NotFound, 410 Gone).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
from kubernetes_asyncio import client, config

from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.errors import BackendError

Obj = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"


class KubeApiError(BackendError):
    """The API server refused a request; `status` and `reason` say how."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"Kubernetes API {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


async def _raise_for_status(response: aiohttp.ClientResponse) -> None:
    if 200 <= response.status < 300:
        return
    raw = await response.read()
    response.release()
    try:
        body = json.loads(raw)
        raise KubeApiError(response.status, str(body.get("reason", "")), str(body.get("message")))
    except (ValueError, AttributeError):
        raise KubeApiError(response.status, "", raw.decode(errors="replace")[:300]) from None


class KubeClient:
    """One API client (one connection pool) for one namespace."""

    def __init__(self, settings: KubernetesSettings) -> None:
        self._settings = settings
        self.namespace = settings.namespace
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

    async def _json(self, call: Awaitable[Any]) -> Obj:
        response: aiohttp.ClientResponse = await call
        await _raise_for_status(response)
        try:
            body: Obj = json.loads(await response.read())
        finally:
            response.release()
        return body

    def _timeout(self) -> float:
        return self._settings.request_timeout_s

    # --- pods ----------------------------------------------------------------------------

    async def create_pod(self, body: Obj) -> Obj:
        return await self._json(
            self.core.create_namespaced_pod(
                self.namespace, body, _preload_content=False, _request_timeout=self._timeout()
            )
        )

    async def get_pod(self, name: str) -> Obj:
        return await self._json(
            self.core.read_namespaced_pod(
                name, self.namespace, _preload_content=False, _request_timeout=self._timeout()
            )
        )

    async def merge_patch_pod(self, name: str, body: Obj) -> Obj:
        return await self._json(
            self.core.patch_namespaced_pod(
                name,
                self.namespace,
                body,
                _content_type=MERGE_PATCH,
                _preload_content=False,
                _request_timeout=self._timeout(),
            )
        )

    async def delete_pod(self, name: str, grace_s: int | None = None) -> Obj:
        options: Obj = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if grace_s is not None:
            options["gracePeriodSeconds"] = grace_s
        return await self._json(
            self.core.delete_namespaced_pod(
                name,
                self.namespace,
                body=options,
                _preload_content=False,
                _request_timeout=self._timeout(),
            )
        )

    async def list_pods(self, selector: str) -> Obj:
        return await self._json(
            self.core.list_namespaced_pod(
                self.namespace,
                label_selector=selector,
                _preload_content=False,
                _request_timeout=self._timeout(),
            )
        )

    async def pod_log_tail(self, name: str, lines: int = 20) -> str:
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

    # --- secrets and services (created only: never read back, gone with their pod) ----------

    async def create_secret(self, body: Obj) -> Obj:
        return await self._json(
            self.core.create_namespaced_secret(
                self.namespace, body, _preload_content=False, _request_timeout=self._timeout()
            )
        )

    async def create_service(self, body: Obj) -> Obj:
        return await self._json(
            self.core.create_namespaced_service(
                self.namespace, body, _preload_content=False, _request_timeout=self._timeout()
            )
        )

    # --- leases (leader election) ---------------------------------------------------------

    async def get_lease(self, name: str) -> Obj:
        return await self._json(
            self._coordination.read_namespaced_lease(
                name, self.namespace, _preload_content=False, _request_timeout=self._timeout()
            )
        )

    async def create_lease(self, body: Obj) -> Obj:
        return await self._json(
            self._coordination.create_namespaced_lease(
                self.namespace, body, _preload_content=False, _request_timeout=self._timeout()
            )
        )

    async def replace_lease(self, name: str, body: Obj) -> Obj:
        return await self._json(
            self._coordination.replace_namespaced_lease(
                name, self.namespace, body, _preload_content=False, _request_timeout=self._timeout()
            )
        )

    # --- nodes (read only) -------------------------------------------------------------

    async def list_cordoned_nodes(self) -> Obj:
        """Nodes marked unschedulable (`kubectl cordon`, the first step of a drain),
        selected by the server (`spec.unschedulable` is a node field selector)."""
        return await self._json(
            self.core.list_node(
                field_selector="spec.unschedulable=true",
                _preload_content=False,
                _request_timeout=self._timeout(),
            )
        )

    # --- watching -------------------------------------------------------------------------

    async def watch_pods(self, selector: str, resource_version: str) -> AsyncIterator[Obj]:
        """Watch pod events after `resource_version` until the server ends the stream.

        A `410 Gone` (as an ERROR event, the API server's way, or as an HTTP status)
        raises `KubeApiError(410)`: the caller must list again (api-concepts.md,
        "Efficient detection of changes").
        """
        response: aiohttp.ClientResponse = await self.core.list_namespaced_pod(
            self.namespace,
            label_selector=selector,
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=self._settings.watch_timeout_s,
            _preload_content=False,
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
