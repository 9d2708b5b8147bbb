"""The WHEP proxy at its edges, end to end through `ixstream up` (issue 10): a
spectator's token cannot end the trainee's WHEP resource (403 problem document, the
trainee keeps watching, its own token still can), and PATCH (trickle ICE) comes back as
the streamer's 405 with its `Allow`, as a problem document."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

import httpx
import pytest

from ixclient.viewer import ViewerClient
from tests.orchestrator.conftest import START_TIMEOUT_S, UpProcess, auth
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
TRICKLE = "application/trickle-ice-sdpfrag"
PROBLEM = "application/problem+json"


async def call(method: str, url: str, token: str, **kwargs: object) -> httpx.Response:
    """Async, so the viewer in the test keeps receiving while the request runs."""
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return await client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]


def session_with_spectator(up: UpProcess) -> tuple[dict[str, str], dict[str, str]]:
    client = httpx.Client(base_url=up.base_url, timeout=30, trust_env=False)
    wait_until(
        lambda: client.get("/readyz").json()["warm_streamers"] == 1,
        START_TIMEOUT_S,
        lambda: f"a warm streamer:\n{up.log()}",
    )
    created = client.post("/v1/sessions", json={}, headers=auth("alice"))
    assert created.status_code == 201, created.text
    session = created.json()
    spectator = client.post(f"/v1/sessions/{session['id']}/spectators", headers=auth("alice"))
    assert spectator.status_code == 201, spectator.text
    return session, spectator.json()


async def test_a_spectator_cannot_end_the_trainees_resource_through_the_proxy(
    orchestrator_up: Callable[..., UpProcess],
) -> None:
    up = orchestrator_up(pool=1, max_sessions=1)
    session, spectator = session_with_spectator(up)
    trainee = ViewerClient(session["whep_url"], token=session["token"])
    await trainee.connect()
    try:
        await trainee.wait_for_frame(timeout_s=30)
        resource = trainee.whep.resource_url
        assert resource is not None
        assert resource.startswith(urljoin(up.base_url, f"/v1/sessions/{session['id']}/whep/"))

        refused = await call("DELETE", resource, spectator["token"])
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith(PROBLEM)
        problem = refused.json()
        assert problem["status"] == 403
        assert "a spectator token may not end a trainee's WHEP resource" in problem["detail"]
        frames = trainee.measure.frames
        await trainee.wait_for_frame(timeout_s=10)
        assert trainee.measure.frames > frames, "the trainee stopped receiving frames"

        patched = await call(
            "PATCH",
            resource,
            session["token"],
            content="a=end-of-candidates\r\n",
            headers={"Content-Type": TRICKLE, "If-Match": "*"},
        )
        assert patched.status_code == 405
        assert patched.headers["Allow"] == "DELETE"
        assert "accept-patch" not in patched.headers
        assert patched.headers["content-type"].startswith(PROBLEM)
        assert "trickle ICE" in patched.json()["detail"]

        ended = await call("DELETE", resource, session["token"])
        assert ended.status_code == 200, ended.text
    finally:
        trainee.whep.resource_url = None
        await trainee.close()


async def test_patch_through_the_proxy_needs_the_session_token(
    orchestrator_up: Callable[..., UpProcess],
) -> None:
    up = orchestrator_up(pool=1, max_sessions=1)
    session, _ = session_with_spectator(up)
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        anonymous = await client.patch(
            f"{session['whep_url']}/anything",
            content="a=end-of-candidates\r\n",
            headers={"Content-Type": TRICKLE},
        )
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith(PROBLEM)
