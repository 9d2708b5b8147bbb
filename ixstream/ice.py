"""ICE configuration in one place: which servers, and which host addresses.

Two hidden defaults get in the way (FIELD-NOTES trap 5): aiortc adds Google's
public STUN server when `iceServers` is None, which an air-gapped training site
cannot reach and must not leak to; and aioice never offers 127.0.0.1 as a host
candidate, so a loopback-only host has no candidates at all. Both are settled
here, for the streamer and the Python client alike: both WebRTC peers import it from
this shared package, neither from the other. It needs aiortc (the `streamer` extra),
which only those two deployables install.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCIceTransportPolicy

_original_get_host_addresses = aioice.ice.get_host_addresses


def configure_host_addresses(addresses: Sequence[str] | None) -> None:
    """Offers exactly `addresses` as host candidates (None: aioice's own discovery).

    Process-wide, because aioice looks the function up at gather time.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _original_get_host_addresses
        return
    chosen = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


def rtc_configuration(servers: Sequence[Any], relay_only: bool = False) -> RTCConfiguration:
    """An RTCConfiguration with exactly these ICE servers: an empty list stays empty.

    `servers` are objects with `urls`, `username` and `credential` (settings'
    `IceServer`, or the same shape from a client's config). `relay_only` is the
    W3C "relay" transport policy: media only through TURN, as a site that must
    not expose host addresses requires.
    """
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in servers
        ],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL,
    )
