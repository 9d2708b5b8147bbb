"""What a streamer tells strangers (issue 10): nothing about its session.

`/v1/status` (session id, whether a trainee is connected, scenario, recording) answers
only the orchestrator's control token; `/metrics` is served on a separate metrics port
(which the pod's NetworkPolicy keeps to Prometheus) and no longer on the main one;
`/healthz` and `/readyz` stay open for kubelet probes.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import StreamerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

Factory = Callable[..., StreamerProcess]
SMALL = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "15")


@pytest.fixture
def streamer(streamer_factory: Factory) -> StreamerProcess:
    return streamer_factory(*SMALL)


def get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=10)


def test_status_refuses_anyone_but_the_orchestrator(streamer: StreamerProcess) -> None:
    url = f"{streamer.base_url}/v1/status"
    anonymous = get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert "s-test" not in anonymous.text
    for role in ("trainee", "spectator", "instructor"):
        viewer = get(url, streamer.token(role))  # type: ignore[arg-type]
        assert viewer.status_code == 403, role
        assert "may not control the streamer" in viewer.text
    control = get(url, streamer.token("orchestrator"))
    assert control.status_code == 200
    assert control.json()["session_id"] == "s-test"


def test_metrics_are_served_only_on_the_metrics_port(streamer: StreamerProcess) -> None:
    assert get(f"{streamer.base_url}/metrics").status_code == 404
    scraped = get(f"{streamer.metrics_url}/metrics")
    assert scraped.status_code == 200
    assert "ixstream_streamer_frames_sent_total" in scraped.text
    assert "ixstream_streamer_viewers" in scraped.text
    # The metrics port serves metrics and nothing else.
    assert (
        get(f"{streamer.metrics_url}/v1/status", streamer.token("orchestrator")).status_code == 404
    )
    assert get(f"{streamer.metrics_url}/whep").status_code == 404


def test_probes_stay_open_on_the_main_port(streamer: StreamerProcess) -> None:
    assert get(f"{streamer.base_url}/healthz").status_code == 200
    ready = get(f"{streamer.base_url}/readyz")
    assert ready.status_code == 200
    assert "s-test" not in ready.text
