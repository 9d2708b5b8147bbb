"""The ICE servers one caller gets: the static ones as configured, plus the TURN URIs
with credentials minted for this subject, now.

Minted per request rather than stored: TURN REST credentials (draft-uberti-behave-
turn-rest-00 §2.2) are an HMAC the TURN server recomputes, so each caller gets a
fresh pair whose lifetime starts when it asks, and nothing needs revoking.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from orchestrator.clock import Clock
from orchestrator.ice.settings import IceSettings
from orchestrator.ice.turn import turn_credential


@dataclass(frozen=True, slots=True)
class IceServer:
    """One RTCIceServer (W3C WebRTC §4.2.2): `urls`, and credentials for TURN."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def to_json(self) -> dict[str, object]:
        """The RTCIceServer dictionary, without the members that are unset."""
        fields = asdict(self)
        fields["urls"] = list(self.urls)
        return {key: value for key, value in fields.items() if value is not None}


class IceIssuer:
    """Hands out the configured ICE servers, with TURN credentials per subject."""

    def __init__(self, settings: IceSettings, clock: Clock) -> None:
        self.settings = settings
        self._clock = clock

    @property
    def configured(self) -> bool:
        """Whether there is anything to hand out (none: an empty list, never a default)."""
        return bool(self.settings.servers or self.settings.turn_uris)

    def servers_for(self, subject: str) -> list[IceServer]:
        """The servers for `subject` (a session id or pod name), in configuration order:
        static first, then one entry for every TURN URI, sharing one credential."""
        servers = [
            IceServer(tuple(s.urls), s.username, s.credential) for s in self.settings.servers
        ]
        secret = self.settings.turn_secret
        if self.settings.turn_uris and secret is not None:
            minted = turn_credential(
                secret.get_secret_value(),
                subject,
                now=self._clock.now(),
                ttl_s=self.settings.turn_ttl_s,
            )
            servers.append(
                IceServer(tuple(self.settings.turn_uris), minted.username, minted.credential)
            )
        return servers


def ice_servers_env(servers: list[IceServer]) -> str:
    """The value of `IXS_STREAMER_ICE_SERVERS`: a JSON list the streamer's settings parse."""
    return json.dumps([s.to_json() for s in servers], separators=(",", ":"))
