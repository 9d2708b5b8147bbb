"""The kubeconfig that points a client at the simulator, exactly as at a cluster.

A kubeconfig is YAML, and JSON is YAML, so the file is written as JSON: no YAML
library is needed to write it, and `kubectl`, the official client and its asyncio
port all read it (`load_kube_config(config_file=...)`). Token authentication, plain
HTTP on loopback. Written atomically with mode 0600: it holds a credential.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def kubeconfig(
    server: str, token: str, namespace: str = "default", name: str = "kubesim"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}
        ],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(path: Path, server: str, token: str, namespace: str = "default") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(kubeconfig(server, token, namespace), out, indent=2)
    os.replace(tmp, path)
    return path
