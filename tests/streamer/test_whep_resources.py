"""Who may end a WHEP resource on the streamer, and what PATCH on it answers (issue 10).

A resource ends only by the token that created it (same subject, same role), an
instructor of the session, or the orchestrator's control token; anyone else gets 403
with the reason and the viewer keeps watching. The streamer has no trickle ICE or ICE
restart, so PATCH answers as the WHEP draft asks of such a server.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

import httpx
import pytest

from ixclient.viewer import ViewerClient
from streamer.auth import mint_token
from tests.conftest import StreamerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

Factory = Callable[..., StreamerProcess]
SMALL = ("--source", "test-pattern", "--width", "320", "--height", "240", "--fps", "15")
TRICKLE = "application/trickle-ice-sdpfrag"
FRAGMENT = (
    "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\n"
    "a=mid:0\r\na=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host\r\n"
)


@pytest.fixture
def streamer(streamer_factory: Factory) -> StreamerProcess:
    return streamer_factory(*SMALL)


async def call(method: str, url: str, **kwargs: object) -> httpx.Response:
    """Async, so the viewers in the test keep receiving while the request runs."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.request(method, url, **kwargs)  # type: ignore[arg-type]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def resource_of(viewer: ViewerClient) -> str:
    url = viewer.whep.resource_url
    assert url is not None
    return url


async def watching(streamer: StreamerProcess, token: str) -> ViewerClient:
    viewer = ViewerClient(streamer.whep_url, token=token)
    await viewer.connect()
    await viewer.wait_for_frame(timeout_s=30)
    return viewer


@pytest.mark.parametrize(
    ("role", "subject"),
    [("spectator", "test-spectator"), ("spectator", "test-trainee"), ("trainee", "mallory")],
)
async def test_only_the_creator_an_instructor_or_the_orchestrator_may_end_a_resource(
    streamer: StreamerProcess, role: str, subject: str
) -> None:
    trainee = await watching(streamer, streamer.token("trainee"))
    try:
        stranger = mint_token(streamer.secret, role, streamer.session_id, subject=subject)  # type: ignore[arg-type]
        refused = await call("DELETE", resource_of(trainee), headers=bearer(stranger))
        assert refused.status_code == 403
        assert f"a {role} token may not end a trainee's WHEP resource" in refused.text
        assert streamer.status()["viewers"] == 1
        frames = trainee.measure.frames
        await trainee.wait_for_frame(timeout_s=10)
        assert trainee.measure.frames > frames, "the trainee stopped receiving frames"
        ended = await call("DELETE", resource_of(trainee), headers=bearer(streamer.token()))
        assert ended.status_code == 200
        assert streamer.status()["viewers"] == 0
    finally:
        trainee.whep.resource_url = None
        await trainee.close()


@pytest.mark.parametrize("role", ["instructor", "orchestrator"])
async def test_an_instructor_or_the_orchestrator_may_end_anyones_resource(
    streamer: StreamerProcess, role: str
) -> None:
    spectator = await watching(streamer, streamer.token("spectator"))
    try:
        token = mint_token(streamer.secret, role, streamer.session_id, subject="someone")  # type: ignore[arg-type]
        ended = await call("DELETE", resource_of(spectator), headers=bearer(token))
        assert ended.status_code == 200, ended.text
        assert streamer.status()["viewers"] == 0
    finally:
        spectator.whep.resource_url = None
        await spectator.close()


async def test_a_token_of_another_session_on_an_unbound_streamer_may_not_end_a_resource(
    streamer_factory: Factory,
) -> None:
    """A warm streamer has no session id yet: the claim that opened a resource decides."""
    streamer = streamer_factory(*SMALL, session_id=None)
    mine = mint_token(streamer.secret, "trainee", "session-a", subject="alice")
    other = mint_token(streamer.secret, "instructor", "session-b", subject="bob")
    viewer = await watching(streamer, mine)
    try:
        refused = await call("DELETE", resource_of(viewer), headers=bearer(other))
        assert refused.status_code == 403
        assert "another session" in refused.text
        assert streamer.status()["viewers"] == 1
    finally:
        await viewer.close()


async def test_patch_on_a_resource_is_405_with_allow_and_no_accept_patch(
    streamer: StreamerProcess,
) -> None:
    """WHEP: a resource without trickle ICE or ICE restart answers any PATCH with
    405 Method Not Allowed (RFC 9110 §15.5.6: with `Allow`) and never offers
    `Accept-Patch: application/trickle-ice-sdpfrag`."""
    viewer = await watching(streamer, streamer.token())
    try:
        for content_type in (TRICKLE, "application/sdp"):
            response = await call(
                "PATCH",
                resource_of(viewer),
                content=FRAGMENT,
                headers={"Content-Type": content_type, **bearer(streamer.token())},
            )
            assert response.status_code == 405
            assert response.headers["Allow"] == "DELETE"
            assert "accept-patch" not in response.headers
            assert "trickle ICE" in response.text
        assert streamer.status()["viewers"] == 1  # the PATCH changed nothing
    finally:
        await viewer.close()
    created = await call(
        "POST",
        streamer.whep_url,
        content="v=0\r\n",
        headers={"Content-Type": "application/sdp", **bearer(streamer.token())},
    )
    assert "accept-patch" not in created.headers


async def test_patch_on_an_unknown_resource_is_still_405(streamer: StreamerProcess) -> None:
    response = await call(
        "PATCH",
        urljoin(streamer.whep_url, "/whep/nope"),
        content=FRAGMENT,
        headers={"Content-Type": TRICKLE, **bearer(streamer.token())},
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE"
