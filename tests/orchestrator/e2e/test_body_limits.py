"""A body its sender streams without end costs the orchestrator nothing it cannot bound.

Against a real `ixstream up`, over a raw socket that keeps sending a chunked body (300
MiB, as the review's attacker did) while it watches for an answer: a WHEP offer without
a token, or for a session that does not exist, is answered before its body is read; one
with a valid token is cut at the SDP limit (413); a JSON body is cut at the app-wide
limit (413). Each time the orchestrator's peak resident memory (VmHWM, reset first)
stays within a few MiB of where it was, and it goes on serving.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from orchestrator.identity import Role
from tests.hostile import ATTACK_BYTES, HEADROOM_BYTES, kib, reset_peak, stream_until_answered
from tests.orchestrator.conftest import UpProcess, auth

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(240)
def test_a_hostile_stream_of_body_is_refused_at_its_limit_and_costs_no_memory(
    orchestrator_up: Callable[..., UpProcess],
) -> None:
    up = orchestrator_up(pool=0, max_sessions=1)
    pid = up.proc.pid
    with httpx.Client(base_url=up.base_url, timeout=30) as api:
        created = api.post("/v1/sessions?wait=true", json={}, headers=auth("alice"))
        assert created.status_code == 201, created.text
        session = created.json()
        token = api.get(f"/v1/sessions/{session['id']}", headers=auth("alice")).json()["token"]
    sdp = {"Content-Type": "application/sdp"}
    cases = [
        ("/v1/sessions/s-0000000000000000/whep", sdp, 404),
        (f"/v1/sessions/{session['id']}/whep", sdp, 401),
        (f"/v1/sessions/{session['id']}/whep", {**sdp, "Authorization": f"Bearer {token}"}, 413),
        ("/v1/sessions", {"Content-Type": "application/json", **auth("bob", Role.TRAINEE)}, 413),
    ]
    for path, headers, expected in cases:
        reset_peak(pid)
        before = kib("VmRSS", pid) * 1024
        status, sent = stream_until_answered(up.base_url, path, headers)
        peak = kib("VmHWM", pid) * 1024
        assert status == expected, (path, status, sent)
        assert sent < ATTACK_BYTES // 4, f"{path}: the server let {sent} bytes in before answering"
        assert peak - before < HEADROOM_BYTES, f"{path}: peak RSS grew by {peak - before} bytes"
    assert httpx.get(f"{up.base_url}/healthz", timeout=10).status_code == 200
