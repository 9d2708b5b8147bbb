"""Settings of the ICE servers the orchestrator hands out (`IXS_ORCH_ICE__<FIELD>`).

A pydantic model nested in `OrchestratorSettings`, so both backends read one
configuration: the browser's servers and the streamer pods' are the same TURN
deployment (the chart's coturn), with the same shared secret.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from orchestrator.key_strength import GENERATE_HINT, key_weakness

#: Six hours: longer than the default maximum session (four hours), so an allocation
#: made at the start is still refreshable at the end (coturn checks the expiry in the
#: username on every authenticated request, ALLOCATE and REFRESH alike), yet short
#: enough that a leaked credential is soon worthless.
DEFAULT_TURN_TTL_S = 6 * 3600
#: TURN URI schemes (RFC 7065 §3.1); `stun:`/`stuns:` (RFC 7064) take no credentials.
TURN_SCHEMES = ("turn:", "turns:")


class IceServerSettings(BaseModel):
    """A static STUN/TURN entry (W3C WebRTC §4.2.2 RTCIceServer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None


class IceSettings(BaseModel):
    # hide_input_in_errors: a refused secret is never echoed in the error.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    servers: list[IceServerSettings] = Field(
        default_factory=list,
        description="Static STUN/TURN servers, as a JSON list of RTCIceServer objects. "
        "Empty by default: nothing contacts a public STUN server (air-gapped sites).",
    )
    turn_uris: list[str] = Field(
        default_factory=list,
        description="TURN URIs that get short-lived credentials from `turn_secret` (TURN "
        "REST API), e.g. `turn:turn.example.org:3478?transport=udp` and "
        "`turns:turn.example.org:443?transport=tcp` for networks that pass only TLS.",
    )
    turn_secret: SecretStr | None = Field(
        default=None, description="coturn's `static-auth-secret`, shared with the TURN server."
    )
    turn_ttl_s: int = Field(
        default=DEFAULT_TURN_TTL_S,
        ge=60,
        le=7 * 24 * 3600,
        description="Lifetime of minted TURN credentials, seconds (default six hours: "
        "longer than a session, so its relay can be refreshed to the end).",
    )

    @field_validator("turn_secret")
    @classmethod
    def _refuse_a_weak_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        # Whoever guesses it mints credentials for any user: an open relay.
        weakness = None if secret is None else key_weakness(secret.get_secret_value())
        if weakness is not None:
            raise ValueError(f"IXS_ORCH_ICE__TURN_SECRET {weakness}; {GENERATE_HINT}")
        return secret

    @model_validator(mode="after")
    def _check_turn(self) -> IceSettings:
        if self.turn_uris and self.turn_secret is None:
            raise ValueError(
                "IXS_ORCH_ICE__TURN_URIS needs IXS_ORCH_ICE__TURN_SECRET (the TURN REST API "
                "shared secret)"
            )
        for uri in self.turn_uris:
            if not uri.startswith(TURN_SCHEMES):
                raise ValueError(f"IXS_ORCH_ICE__TURN_URIS: {uri!r} is not a turn: or turns: URI")
        return self
