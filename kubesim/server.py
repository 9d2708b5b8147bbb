"""The HTTP face of the simulator: Kubernetes API paths, verbs and wire formats.

Paths and verbs follow api-concepts.md ("Standard API terminology", "Resource URIs"):
`/api/v1/...` for the core group and `/apis/GROUP/VERSION/...` for others, collections
under `.../namespaces/NS/PLURAL`, subresources after the name. GET on a collection
lists, or watches with `?watch=true`: a chunked stream of JSON lines `{"type",
"object"}` that resumes after `resourceVersion`, sends BOOKMARK events when asked
(`allowWatchBookmarks`), ends after `timeoutSeconds`, and, when the version is older
than the history kept, sends one ERROR event carrying a 410 `Status`, as the real API
server does. Every error is a `Status` body (see `errors`).

Requests need the bearer token written into the kubeconfig, like a real API server
with token authentication. Given a `Grant` (a Role's rules and the user bound to it),
the simulator also authorizes every resource request as RBAC would and refuses the
others with `403 Forbidden` (see `rbac`); discovery, `/version` and health stay open,
as they are to any authenticated user. The simulator's own operations (add or lose
nodes, evict, crash) live under `/_sim/`, outside the Kubernetes API and never
restricted.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from kubesim import kinds
from kubesim.cluster import Cluster, NodeShape
from kubesim.errors import ApiError, BadRequest, Gone, MethodNotAllowed, NotFound, Unauthorized
from kubesim.faults import (
    DroppedConnection,
    Fault,
    FaultPlan,
    InjectedFailure,
    fault_from_json,
    quiet_dropped_connections,
)
from kubesim.kinds import Kind
from kubesim.rbac import (
    Grant,
    RequestAttributes,
    allows,
    forbidden,
    name_from_field_selector,
    verb_of,
)
from kubesim.selectors import parse_field_selector, parse_label_selector

DEFAULT_WATCH_TIMEOUT_S = 1800.0
VERSION = {"major": "1", "minor": "33", "gitVersion": "v1.33.0-kubesim", "platform": "linux/amd64"}


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


@dataclass(frozen=True, slots=True)
class Target:
    kind: Kind
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_path(path: str) -> Target | None:
    """Map a request path to what it addresses; None for paths that are not resources."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and (group, version, rest[2]) in kinds.BY_PATH:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    kind = kinds.BY_PATH.get((group, version, rest[0]))
    if kind is None:
        return None
    if kind.namespaced is False and namespace is not None:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in kind.subresources:
        return None
    return Target(kind, namespace, name, sub)


class Simulator:
    """The ASGI application serving one `Cluster`."""

    def __init__(
        self,
        cluster: Cluster,
        token: str | None = None,
        bookmark_interval_s: float = 5.0,
        *,
        grant: Grant | None = None,
    ) -> None:
        self.cluster = cluster
        self.token = token or secrets.token_urlsafe(24)
        self.bookmark_interval_s = bookmark_interval_s
        #: None: every authenticated request is allowed (no RBAC).
        self.grant = grant
        #: Faults injected on purpose (`faults`); empty: none.
        self.faults = FaultPlan()
        quiet_dropped_connections()
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        self.app = Starlette(
            routes=[
                Route("/version", self._version, methods=["GET"]),
                Route("/healthz", self._ok, methods=["GET"]),
                Route("/readyz", self._ok, methods=["GET"]),
                Route("/livez", self._ok, methods=["GET"]),
                Route("/_sim/{path:path}", self._admin, methods=methods),
                Route("/{path:path}", self._api, methods=methods),
            ]
        )

    async def _version(self, request: Request) -> Response:
        return _json(VERSION)

    async def _ok(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if not secrets.compare_digest(header.encode(), f"Bearer {self.token}".encode()):
            raise Unauthorized("Unauthorized")

    def _authorize(self, request: Request, target: Target) -> None:
        if self.grant is None:
            return
        attributes = request_attributes(request.method, target, request.query_params.get)
        if not allows(self.grant, attributes):
            raise forbidden(self.grant.user, attributes)

    async def _body(self, request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from exc

    # --- the Kubernetes API --------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            path = request.url.path
            if path in ("/api", "/apis") or (
                path.count("/") <= 3 and path.startswith(("/api/", "/apis/"))
            ):
                discovery = _discovery(path)
                if discovery is not None:
                    return _json(discovery)
            target = parse_path(path)
            if target is None:
                raise NotFound("the server could not find the requested resource")
            self._authorize(request, target)
            if request.query_params.get("dryRun"):
                raise BadRequest("dryRun is not simulated by kubesim")
            fault = self._fault(request, target)
            if fault is None:
                return await self._dispatch(request, target)
            return await self._faulty(request, target, fault)
        except InjectedFailure as failure:
            return Response(
                json.dumps(failure.status()),
                status_code=failure.code,
                media_type="application/json",
                headers=failure.headers(),
            )
        except ApiError as error:
            return _json(error.status(), error.code)

    def _fault(self, request: Request, target: Target) -> Fault | None:
        if not self.faults.faults:
            return None
        attributes = request_attributes(request.method, target, request.query_params.get)
        return self.faults.take(attributes.verb, attributes.resource)

    async def _faulty(self, request: Request, target: Target, fault: Fault) -> Response:
        """Serve one request as `fault` says: late, refused, or applied and then failed."""
        try:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            failure = fault.failure()
            if failure is not None and not fault.commit:
                raise failure
            response = await self._dispatch(request, target, fault)
            if failure is not None:
                raise failure  # applied, but the answer is lost
            return response
        finally:
            fault.settled += 1

    async def _dispatch(self, request: Request, t: Target, fault: Fault | None = None) -> Response:
        registry, q, method = self.cluster.registry, request.query_params, request.method
        namespace = t.namespace or ""
        if t.kind.namespaced and t.name is not None and t.namespace is None:
            raise NotFound("the server could not find the requested resource")
        if t.name is None:
            labels = parse_label_selector(q.get("labelSelector"))
            fields = parse_field_selector(q.get("fieldSelector"), t.kind.field_selectors)
            if method == "GET" and _bool(q.get("watch")):
                return self._watch(request, t, labels, fields, fault)
            if method == "GET":
                limit = int(q["limit"]) if q.get("limit") else None
                return _json(
                    registry.list(
                        t.kind,
                        t.namespace,
                        labels,
                        fields,
                        limit=limit,
                        continue_token=q.get("continue"),
                    )
                )
            if method == "POST":
                if t.kind.namespaced and t.namespace is None:
                    raise MethodNotAllowed("create needs a namespace")
                return _json(
                    registry.create(t.kind, namespace, await self._body(request) or {}), 201
                )
            if method == "DELETE":
                options = _delete_options(q, await self._body(request))
                return _json(
                    registry.delete_collection(t.kind, t.namespace, labels, fields, options)
                )
            raise MethodNotAllowed(f"{method} is not allowed on a collection")
        if t.subresource == "log":
            return PlainTextResponse(registry.logs(namespace, t.name))
        if t.subresource == "eviction":
            if method != "POST":
                raise MethodNotAllowed("eviction accepts POST only")
            return _json(registry.evict(namespace, t.name, await self._body(request) or {}), 201)
        if method == "GET":
            return _json(registry.get(t.kind, namespace, t.name))
        if method == "PUT":
            return _json(
                registry.replace(
                    t.kind, namespace, t.name, await self._body(request), t.subresource
                )
            )
        if method == "PATCH":
            content_type = request.headers.get("content-type", "")
            return _json(
                registry.patch(
                    t.kind,
                    namespace,
                    t.name,
                    content_type,
                    await self._body(request),
                    t.subresource,
                )
            )
        if method == "DELETE" and t.subresource is None:
            options = _delete_options(q, await self._body(request))
            return _json(registry.delete(t.kind, namespace, t.name, options))
        raise MethodNotAllowed(f"{method} is not allowed here")

    def _watch(
        self, request: Request, t: Target, labels: Any, fields: Any, fault: Fault | None
    ) -> Response:
        q = request.query_params
        raw_version = q.get("resourceVersion")
        since = int(raw_version) if raw_version not in (None, "", "0") else None
        timeout = float(q.get("timeoutSeconds") or DEFAULT_WATCH_TIMEOUT_S)
        bookmarks = _bool(q.get("allowWatchBookmarks"))
        try:
            watcher = self.cluster.store.watch(t.kind, t.namespace, labels, fields, since)
        except Gone as gone:
            error = json.dumps({"type": "ERROR", "object": gone.status()}).encode() + b"\n"
            return Response(error, media_type="application/json")
        store, kind = self.cluster.store, t.kind
        interval = self.bookmark_interval_s

        # Events this stream may still send before its fault (None: no watch fault).
        budget = fault.after_events if fault is not None and fault.watch else None

        async def stream() -> AsyncIterator[bytes]:
            nonlocal budget
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            try:
                while True:
                    if budget == 0 and fault is not None:
                        await _misbehave(fault)
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        return
                    wait = min(remaining, interval) if bookmarks else remaining
                    try:
                        line = await asyncio.wait_for(watcher.queue.get(), wait)
                    except TimeoutError:
                        if bookmarks and loop.time() < deadline:
                            yield _bookmark(kind, store.revision)
                        continue
                    if line is None:
                        return
                    most = 256 if budget is None else budget
                    chunk = [line]
                    while not watcher.queue.empty() and len(chunk) < most:
                        more = watcher.queue.get_nowait()
                        if more is None:
                            yield b"".join(chunk)
                            return
                        chunk.append(more)
                    if budget is not None:
                        budget -= len(chunk)
                    yield b"".join(chunk)
            finally:
                watcher.close()

        return StreamingResponse(stream(), media_type="application/json")

    # --- the simulator's own operations ------------------------------------------------

    async def _admin(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            return await self._admin_dispatch(request, request.path_params["path"].strip("/"))
        except ApiError as error:
            return _json(error.status(), error.code)

    async def _admin_dispatch(self, request: Request, path: str) -> Response:
        cluster, parts = self.cluster, path.split("/")
        body = await self._body(request) or {}
        if request.method == "GET" and path == "summary":
            return _json(cluster.summary())
        if path == "faults":
            return self._faults_admin(request.method, body)
        if request.method == "POST" and path == "nodes":
            base = cluster.config.node_shape
            shape = NodeShape(
                gpus=int(body.get("gpus", base.gpus)),
                gpu_resource=str(body.get("gpuResource", base.gpu_resource)),
                cpu=str(body.get("cpu", base.cpu)),
                memory=str(body.get("memory", base.memory)),
                max_pods=int(body.get("maxPods", base.max_pods)),
                labels={**base.labels, **(body.get("labels") or {})},
            )
            names = cluster.add_nodes(int(body.get("count", 1)), shape, body.get("taints") or ())
            return _json({"names": names}, 201)
        if (
            request.method == "POST"
            and len(parts) == 3
            and parts[0] == "nodes"
            and parts[2] == "lose"
        ):
            await cluster.lose_node(parts[1], body.get("message"))
            return _json({"lost": parts[1]})
        if (
            request.method == "POST"
            and len(parts) == 5
            and parts[0] == "namespaces"
            and parts[2] == "pods"
        ):
            namespace, name, action = parts[1], parts[3], parts[4]
            if action == "evict":
                cluster.evict_pod(
                    namespace,
                    name,
                    str(body.get("message", "The node was low on resource: memory.")),
                )
                return _json({"evicted": name})
            if action == "crash":
                cluster.crash_container(
                    namespace, name, int(body.get("exitCode", 1)), str(body.get("reason", "Error"))
                )
                return _json({"crashed": name})
        raise NotFound(f"no simulator operation {request.method} /_sim/{path}")

    def _faults_admin(self, method: str, body: Any) -> Response:
        """`/_sim/faults`: POST `{"faults": [...]}` adds rules, GET lists, DELETE clears."""
        if method == "POST":
            rules = body.get("faults") if isinstance(body, dict) else None
            if not isinstance(rules, list) or not rules:
                raise BadRequest('POST /_sim/faults takes {"faults": [rule, ...]}')
            parsed = [fault_from_json(rule) for rule in rules]  # all or nothing
            for fault in parsed:
                self.faults.add(fault)
        elif method == "DELETE":
            self.faults.clear()
        elif method != "GET":
            raise MethodNotAllowed(f"{method} is not allowed on /_sim/faults")
        return _json({"faults": [f.describe() for f in self.faults.faults]})


async def _misbehave(fault: Fault) -> None:
    """What a watch does when its fault is due: lose the connection, or go quiet and
    stay open (until the client gives up and disconnects)."""
    if fault.watch == "drop":
        raise DroppedConnection("kubesim: watch connection dropped on purpose")
    await asyncio.Event().wait()


def request_attributes(
    method: str, target: Target, query: Callable[[str], str | None]
) -> RequestAttributes:
    """What RBAC decides this request on (see `rbac`)."""
    watch = method == "GET" and target.name is None and _bool(query("watch"))
    name = target.name
    if name is None and method == "GET":
        name = name_from_field_selector(query("fieldSelector"))
    return RequestAttributes(
        verb=verb_of(method, has_name=target.name is not None, watch=watch),
        group=target.kind.group,
        resource=target.kind.plural,
        subresource=target.subresource,
        namespace=target.namespace,
        name=name,
    )


def _bool(value: str | None) -> bool:
    """Go's strconv.ParseBool, which the API server uses for boolean parameters."""
    return value in ("1", "t", "T", "TRUE", "true", "True")


def _bookmark(kind: Kind, revision: int) -> bytes:
    obj = {
        "kind": kind.kind,
        "apiVersion": kind.api_version,
        "metadata": {"resourceVersion": str(revision)},
    }
    return json.dumps({"type": "BOOKMARK", "object": obj}).encode() + b"\n"


def _delete_options(query: Any, body: Any) -> dict[str, Any]:
    options = dict(body) if isinstance(body, dict) else {}
    if query.get("gracePeriodSeconds") is not None:
        options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
    if query.get("propagationPolicy"):
        options["propagationPolicy"] = query["propagationPolicy"]
    return options


def _discovery(path: str) -> dict[str, Any] | None:
    """Just enough discovery for `kubectl` and clients that ask (APIVersions,
    APIGroupList, APIResourceList)."""
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}
            ],
        }
    if path == "/apis":
        groups = sorted({k.group for k in kinds.ALL if k.group})
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/v1", "version": "v1"}],
                    "preferredVersion": {"groupVersion": f"{g}/v1", "version": "v1"},
                }
                for g in groups
            ],
        }
    parts = [p for p in path.split("/") if p]
    group_version = "/".join(parts[1:])
    served = [k for k in kinds.ALL if k.api_version == group_version]
    if not served:
        return None
    resources = []
    for k in served:
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        resources.append(
            {
                "name": k.plural,
                "singularName": k.kind.lower(),
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": verbs,
            }
        )
        resources += [
            {
                "name": f"{k.plural}/{s}",
                "singularName": "",
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": ["get", "patch", "update"],
            }
            for s in sorted(k.subresources)
        ]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
