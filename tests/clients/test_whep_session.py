"""The WHEP client's DELETE: a server that is already gone does not hang or raise on
close, and the reason is kept for the caller."""

from __future__ import annotations

import socket

from ixclient.whep import WhepSession


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens here once the socket is closed


async def test_closing_against_a_vanished_server_records_why() -> None:
    session = WhepSession(f"http://127.0.0.1:{closed_port()}/whep", token="t", timeout_s=2)
    session.resource_url = session.url + "/resource"
    await session.close()
    assert session.close_error is not None
    assert "ConnectError" in session.close_error
    assert session.resource_url is not None  # it was never released there
