"""What the kubelet's container runtime would do before starting a container, as pure
functions: pick the command, build the environment, expand `$(VAR)` references.

- The command is `command` + `args` if the container sets `command`, else the image's
  entrypoint + `args` (the Dockerfile ENTRYPOINT/CMD rules in pods.md, "Define a
  command and arguments"). The simulator knows an image's entrypoint only if it was
  told (`--run-image IMAGE=ARGV`); other images are simulated, not run.
- `env` entries take a `value` or a `valueFrom` (`fieldRef` for the downward API,
  `secretKeyRef`, `configMapKeyRef`); a missing secret is an error the kubelet reports
  as `CreateContainerConfigError` and retries.
- `$(VAR)` in command and args expands to an earlier variable, `$$(VAR)` escapes it,
  and an unknown reference stays as written (expansion.go).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Obj = dict[str, Any]
SecretLookup = Callable[[str, str], Obj | None]  # (kind plural, name) -> object


class ContainerConfigError(Exception):
    """The container cannot start yet (a referenced Secret or key is missing)."""


_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REFERENCE.sub(substitute, text)


def image_repository(image: str) -> str:
    """`registry/repo:tag@digest` without tag and digest."""
    image = image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return image[:colon] if colon > slash else image


def entrypoint(container: Obj, run_images: Mapping[str, Sequence[str]]) -> list[str] | None:
    """The argv to run, or None when the image's entrypoint is unknown (simulate it)."""
    image = container.get("image", "")
    known = run_images.get(image) or run_images.get(image_repository(image))
    command = container.get("command")
    if command:
        return [*command, *(container.get("args") or [])] if known is not None else None
    if known is None:
        return None
    return [*known, *(container.get("args") or [])]


def _field(pod: Obj, path: str) -> str:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
    }
    if path in simple:
        return str(simple[path] or "")
    match = re.match(r"^metadata\.(labels|annotations)\['([^']+)'\]$", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise ContainerConfigError(f"unsupported fieldRef {path!r}")


def _key_ref(ref: Obj, kind: str, lookup: SecretLookup) -> str | None:
    obj = lookup(kind, ref.get("name", ""))
    optional = bool(ref.get("optional"))
    if obj is None:
        if optional:
            return None
        raise ContainerConfigError(f'{kind[:-1]} "{ref.get("name")}" not found')
    if kind == "secrets":
        raw = (obj.get("data") or {}).get(ref.get("key", ""))
        value = base64.b64decode(raw).decode() if raw is not None else None
    else:
        value = (obj.get("data") or {}).get(ref.get("key", ""))
    if value is None and not optional:
        raise ContainerConfigError(
            f"couldn't find key {ref.get('key')} in {kind[:-1]} {ref.get('name')}"
        )
    return value


def container_env(pod: Obj, container: Obj, lookup: SecretLookup) -> dict[str, str]:
    """The container's declared environment, in order, with references resolved."""
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        name = item["name"]
        if "value" in item:
            env[name] = expand(str(item["value"]), env)
            continue
        source = item.get("valueFrom") or {}
        value: str | None
        if "fieldRef" in source:
            value = _field(pod, source["fieldRef"].get("fieldPath", ""))
        elif "secretKeyRef" in source:
            value = _key_ref(source["secretKeyRef"], "secrets", lookup)
        elif "configMapKeyRef" in source:
            value = _key_ref(source["configMapKeyRef"], "configmaps", lookup)
        else:
            value = ""
        if value is not None:
            env[name] = value
    return env
