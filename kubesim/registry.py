"""The REST verbs on stored kinds: what the API server does between HTTP and etcd.

`server` turns HTTP requests into calls here; `Registry` applies admission, optimistic
concurrency and the delete protocol:

- create: 201 with the stored object; `generateName` resolved by the store;
- update (PUT) and patch: the result's `metadata.resourceVersion`, when present, is a
  precondition: a stale one is 409 Conflict (api-conventions.md, "Concurrency Control
  and Consistency"). A patch that does not mention it applies unconditionally, one
  that carries the version read is a compare-and-swap: how claims are made safe;
- delete: graceful for pods bound to a node (`deletionTimestamp` and
  `deletionGracePeriodSeconds` are set and the kubelet finishes the job); immediate
  for unscheduled or terminated pods and for other kinds (pod strategy's
  `CheckGracefulDelete`); `preconditions` (uid, resourceVersion) are checked first;
- list: `limit`/`continue` pagination, with 410 Gone for a continue token older than
  the watch history.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from kubesim import kinds
from kubesim.admission import prepare_create, prepare_update
from kubesim.disruption import eviction_refusal
from kubesim.errors import BadRequest, Conflict, Gone, NotFound, TooManyRequests
from kubesim.kinds import Kind
from kubesim.patch import apply_patch
from kubesim.selectors import FieldSelector, LabelSelector
from kubesim.store import Obj, Store, now_rfc3339

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


def _continue_token(revision: int, after: tuple[str, str]) -> str:
    raw = json.dumps({"rv": revision, "after": list(after)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _parse_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), (str(data["after"][0]), str(data["after"][1]))
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error) as exc:
        raise BadRequest(f"invalid continue token: {exc}") from exc


class Registry:
    def __init__(self, store: Store, logs: Callable[[str, str], str] | None = None) -> None:
        self.store = store
        self._logs = logs or (lambda namespace, name: "")

    # --- reads -------------------------------------------------------------------------

    def get(self, kind: Kind, namespace: str, name: str) -> Obj:
        return self.store.get(kind, namespace, name)

    def list(
        self,
        kind: Kind,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Obj:
        items = self.store.list(kind, namespace, labels, fields)
        revision = self.store.revision
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if continue_token:
            token_revision, after = _parse_continue(continue_token)
            if token_revision < self.store.compacted:
                raise Gone(
                    "The provided continue parameter is too old to display a consistent "
                    "list result. You can start a new list without the continue "
                    "parameter."
                )
            items = [i for i in items if _key(kind, i) > after]
        if limit and len(items) > limit:
            remaining = len(items) - limit
            items = items[:limit]
            meta["continue"] = _continue_token(revision, _key(kind, items[-1]))
            meta["remainingItemCount"] = remaining
        return {
            "kind": kind.list_kind,
            "apiVersion": kind.api_version,
            "metadata": meta,
            "items": items,
        }

    def logs(self, namespace: str, name: str) -> str:
        self.store.get(kinds.PODS, namespace, name)
        return self._logs(namespace, name)

    # --- writes ------------------------------------------------------------------------

    def create(self, kind: Kind, namespace: str, body: Obj) -> Obj:
        if kind.namespaced and self.store.find(kinds.NAMESPACES, "", namespace) is None:
            raise NotFound.object("namespaces", namespace)
        return self.store.create(kind, namespace, prepare_create(kind, body, namespace))

    def replace(
        self, kind: Kind, namespace: str, name: str, body: Obj, subresource: str | None = None
    ) -> Obj:
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise BadRequest("the body must be an object with metadata")
        current = self.store.get(kind, namespace, name)
        expected = body["metadata"].get("resourceVersion") or None
        updated = prepare_update(kind, current, body, subresource=subresource)
        return self._write(kind, updated, expected)

    def patch(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        content_type: str,
        body: Any,
        subresource: str | None = None,
    ) -> Obj:
        current = self.store.get(kind, namespace, name)
        patched = apply_patch(content_type, current, body)
        if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
            raise BadRequest("the patch left the object without metadata")
        expected = patched["metadata"].get("resourceVersion") or None
        updated = prepare_update(kind, current, patched, subresource=subresource)
        return self._write(kind, updated, expected)

    def _write(self, kind: Kind, updated: Obj, expected: str | None) -> Obj:
        stored = self.store.update(kind, updated, expected_version=expected)
        meta = stored["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and kind is not kinds.PODS:
            return self.store.remove(kind, meta.get("namespace", ""), meta["name"])
        return stored

    def delete(self, kind: Kind, namespace: str, name: str, options: Obj | None = None) -> Obj:
        options = options or {}
        current = self.store.get(kind, namespace, name)
        meta = current["metadata"]
        preconditions = options.get("preconditions") or {}
        if preconditions.get("uid") not in (None, meta["uid"]):
            raise Conflict(
                f"Precondition failed: UID in precondition: {preconditions['uid']}, UID in "
                f"object meta: {meta['uid']}",
                kind=kind.plural,
                name=name,
                group=kind.group,
            )
        if preconditions.get("resourceVersion") not in (None, meta["resourceVersion"]):
            raise Conflict.modified(kind.plural, name, kind.group)
        if kind is kinds.PODS:
            return self._delete_pod(current, options)
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return current
            marked = {
                **current,
                "metadata": {
                    **meta,
                    "deletionTimestamp": now_rfc3339(),
                    "deletionGracePeriodSeconds": 0,
                },
            }
            return self.store.update(kind, marked, expected_version=None)
        return self.store.remove(kind, namespace, name)

    def _delete_pod(self, pod: Obj, options: Obj) -> Obj:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        grace = max(0, int(grace))
        phase = (pod.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in TERMINAL_PHASES or grace == 0:
            return self.store.remove(kinds.PODS, meta["namespace"], meta["name"])
        previous = meta.get("deletionGracePeriodSeconds")
        if previous is not None and previous <= grace:
            return pod  # already terminating at least as fast
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=grace)
        marked = {
            **pod,
            "metadata": {
                **meta,
                "deletionTimestamp": deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "deletionGracePeriodSeconds": grace,
            },
        }
        return self.store.update(kinds.PODS, marked, expected_version=None)

    def delete_collection(
        self,
        kind: Kind,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        options: Obj | None = None,
    ) -> Obj:
        deleted = []
        for obj in self.store.list(kind, namespace, labels, fields):
            meta = obj["metadata"]
            try:
                deleted.append(self.delete(kind, meta.get("namespace", ""), meta["name"], options))
            except NotFound:
                continue
        return {
            "kind": kind.list_kind,
            "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": str(self.store.revision)},
            "items": deleted,
        }

    def evict(self, namespace: str, name: str, body: Obj) -> Obj:
        """The Eviction subresource (policy/v1): an API-initiated, graceful delete,
        refused with 429 where a PodDisruptionBudget allows no disruption (`disruption`).
        """
        pod = self.store.get(kinds.PODS, namespace, name)
        refusal = eviction_refusal(
            pod, self.store.all(kinds.PODDISRUPTIONBUDGETS), self.store.all(kinds.PODS)
        )
        if refusal is not None:
            raise TooManyRequests(refusal)
        options = (body or {}).get("deleteOptions") or {}
        self.delete(kinds.PODS, namespace, name, options)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "code": 201,
        }


def _key(kind: Kind, obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace", "") if kind.namespaced else "", meta["name"])
