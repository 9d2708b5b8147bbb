"""Locust load for the control plane: create → get → spectate → delete, and listing.

Run headless against a running orchestrator:

    IXS_LOAD_JWT_SECRET=<the orchestrator's IXS_ORCH_JWT_SECRET> \\
        locust -f load_tests/locustfile.py --headless -u 10 -r 5 -t 30s \\
        --host http://127.0.0.1:8000

Each simulated user is its own trainee (a token minted from `IXS_LOAD_JWT_SECRET`), so
the load exercises per-owner access rules and the fair queue as real trainees would.
With `IXS_LOAD_TOKEN` instead, every user shares that one token. Sessions are created
with `wait=true`: when capacity is full they queue, which is the path under load.

Locust runs on gevent and cannot drive aiortc (STYLE.md): the media plane has its own
asyncio harness, `load_tests/media.py`.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import jwt
from locust import HttpUser, between, task

AUDIENCE = os.environ.get("IXS_LOAD_AUDIENCE", "ixstream-orchestrator")


def token_for(subject: str) -> str:
    shared = os.environ.get("IXS_LOAD_TOKEN")
    if shared:
        return shared
    secret = os.environ.get("IXS_LOAD_JWT_SECRET")
    if not secret:
        raise RuntimeError("set IXS_LOAD_JWT_SECRET (the orchestrator's key) or IXS_LOAD_TOKEN")
    now = int(time.time())
    claims = {"sub": subject, "role": "trainee", "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    return jwt.encode(claims, secret, algorithm="HS256")


class Trainee(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.subject = f"load-{uuid.uuid4().hex[:8]}"
        self.headers = {"Authorization": f"Bearer {token_for(self.subject)}"}

    @task(3)
    def session_lifecycle(self) -> None:
        with self.client.post(
            "/v1/sessions?wait=true", json={}, headers=self.headers, name="POST /v1/sessions",
            catch_response=True,
        ) as created:  # fmt: skip
            if created.status_code != 201:
                created.failure(f"create: {created.status_code} {created.text[:200]}")
                return
            session: dict[str, Any] = created.json()
        path = f"/v1/sessions/{session['id']}"
        self.client.get(path, headers=self.headers, name="GET /v1/sessions/{id}")
        # A queued session has no streamer yet: 409 is the documented answer, not a failure.
        with self.client.post(
            f"{path}/spectators", headers=self.headers, name="POST /v1/sessions/{id}/spectators",
            catch_response=True,
        ) as joined:  # fmt: skip
            pending = session["state"] == "pending" and joined.status_code == 409
            if joined.status_code == 201 or pending:
                joined.success()
            else:
                joined.failure(f"join: {joined.status_code} {joined.text[:200]}")
        with self.client.delete(
            path, headers=self.headers, name="DELETE /v1/sessions/{id}", catch_response=True
        ) as deleted:
            if deleted.status_code != 202:
                deleted.failure(f"delete: {deleted.status_code} {deleted.text[:200]}")

    @task(2)
    def list_sessions(self) -> None:
        self.client.get("/v1/sessions", headers=self.headers, name="GET /v1/sessions")

    @task(1)
    def probes(self) -> None:
        self.client.get("/readyz", name="GET /readyz")
