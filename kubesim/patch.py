"""The three patch formats the API server accepts, as pure functions.

- `application/merge-patch+json`: RFC 7386. Maps merge, `null` deletes a key, any
  other value (lists included) replaces.
- `application/strategic-merge-patch+json`: Kubernetes' own (sig-api-machinery,
  "strategic-merge-patch.md"): like RFC 7386, but lists whose schema declares a
  `patchMergeKey` (containers by `name`, conditions by `type`, ...) merge element by
  element, an element `{"$patch": "delete", <key>: ...}` removes one, and a map with
  `"$patch": "replace"` replaces instead of merging. `$setElementOrder/...` directives
  are accepted and ignored (ordering is cosmetic here).
- `application/json-patch+json`: RFC 6902 (add, remove, replace, move, copy, test),
  with RFC 6901 pointers.

Inputs are never mutated: the store treats objects as immutable values, so a patch
builds new containers along the paths it changes and shares the rest.
"""

from __future__ import annotations

import copy
from typing import Any

from kubesim.errors import BadRequest, Invalid, UnsupportedMediaType

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

#: Lists that merge by key in a strategic merge patch (`x-kubernetes-patch-merge-key`
#: in the OpenAPI schema), as paths of map keys; list elements are transparent.
MERGE_KEYS: dict[tuple[str, ...], str] = {
    ("metadata", "ownerReferences"): "uid",
    ("spec", "containers"): "name",
    ("spec", "initContainers"): "name",
    ("spec", "volumes"): "name",
    ("spec", "containers", "env"): "name",
    ("spec", "containers", "ports"): "containerPort",
    ("spec", "containers", "volumeMounts"): "mountPath",
    ("spec", "ports"): "port",  # Service
    ("status", "conditions"): "type",
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 §2 MergePatch(Target, Patch)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, path: tuple[str, ...] = ()) -> Any:
    """A strategic merge patch of `target` (see the module docstring)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key.startswith("$retainKeys"):
            continue
        if key == "$patch":
            continue
        if value is None:
            result.pop(key, None)
            continue
        child = (*path, key)
        merge_key = MERGE_KEYS.get(child)
        if merge_key is not None and isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, merge_key, child)
        else:
            merged = strategic_merge_patch(result.get(key), value, child)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def _merge_list(target: Any, patch: list[Any], merge_key: str, path: tuple[str, ...]) -> list[Any]:
    items = list(target) if isinstance(target, list) else []
    for element in patch:
        if not isinstance(element, dict) or merge_key not in element:
            raise BadRequest(f"strategic merge patch: list {'.'.join(path)} needs {merge_key!r}")
        index = next(
            (i for i, item in enumerate(items) if item.get(merge_key) == element[merge_key]),
            None,
        )
        if element.get("$patch") == "delete":
            if index is not None:
                del items[index]
        elif index is None:
            items.append({k: v for k, v in element.items() if k != "$patch"})
        else:
            items[index] = strategic_merge_patch(items[index], element, path)
    return items


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise Invalid(f"json patch: pointer {path!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, tokens: list[str]) -> Any:
    for token in tokens:
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            raise Invalid(f"json patch: path /{'/'.join(tokens)} does not exist")
    return doc


def _add(doc: Any, tokens: list[str], value: Any, replace: bool) -> None:
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise Invalid(f"json patch: cannot replace missing /{'/'.join(tokens)}")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
            return
        if not last.isdigit() or int(last) > len(parent) - (1 if replace else 0):
            raise Invalid(f"json patch: bad list index in /{'/'.join(tokens)}")
        if replace:
            parent[int(last)] = value
        else:
            parent.insert(int(last), value)
    else:
        raise Invalid(f"json patch: /{'/'.join(tokens[:-1])} is not a container")


def _remove(doc: Any, tokens: list[str]) -> Any:
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise Invalid(f"json patch: cannot remove missing /{'/'.join(tokens)}")


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 §4: apply every operation in order, or none (a failed `test` is 422)."""
    if not isinstance(operations, list):
        raise BadRequest("json patch: the body must be a JSON array of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise BadRequest(f"json patch: malformed operation {op!r}")
        tokens = _pointer(op["path"])
        kind = op["op"]
        if kind in ("add", "replace"):
            if "value" not in op:
                raise BadRequest(f"json patch: {kind} needs a value")
            if not tokens:
                doc = copy.deepcopy(op["value"])
            else:
                _add(doc, tokens, copy.deepcopy(op["value"]), replace=kind == "replace")
        elif kind == "remove":
            _remove(doc, tokens)
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_walk(doc, source))
            _add(doc, tokens, value, replace=False)
        elif kind == "test":
            if _walk(doc, tokens) != op.get("value"):
                raise Invalid(f"json patch: test failed at {op['path']}")
        else:
            raise BadRequest(f"json patch: unknown operation {kind!r}")
    return doc


def apply_patch(content_type: str, target: dict[str, Any], body: Any) -> Any:
    """Dispatch on the request's Content-Type, as the API server does."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == MERGE_PATCH:
        return merge_patch(target, body)
    if media == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(target, body)
    if media == JSON_PATCH:
        return json_patch(target, body)
    if media == APPLY_PATCH:
        raise UnsupportedMediaType("server-side apply is not simulated; use a merge patch")
    raise UnsupportedMediaType(f"the body of the request was in an unknown format: {media!r}")
