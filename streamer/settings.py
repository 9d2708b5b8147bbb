"""The streamer's settings: one typed object, from flags or `IXS_STREAMER_*` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ixstream.bitrate import default_bitrate_kbps
from ixstream.cors import normalise_origin


class IceServer(BaseModel):
    """An RTCIceServer (W3C WebRTC §4.2.2): STUN/TURN URLs and credentials."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class StreamerSettings(BaseSettings):
    # hide_input_in_errors: a rejected value must never echo the signing key into a log.
    model_config = SettingsConfigDict(
        env_prefix="IXS_STREAMER_", extra="forbid", hide_input_in_errors=True
    )

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="0 binds a free port")
    port_file: Path | None = Field(None, description="where the bound port is written")
    metrics_port: int = Field(
        9090,
        ge=0,
        le=65535,
        description="Prometheus /metrics, alone on its own port so a NetworkPolicy can keep "
        "it to Prometheus (the main port never serves it); 0 binds a free port",
    )
    metrics_port_file: Path | None = Field(
        None, description="where the bound metrics port is written (before port_file)"
    )
    width: int = Field(1280, ge=64, le=7680)
    height: int = Field(720, ge=64, le=4320)
    fps: int = Field(60, ge=1, le=144)
    codec: Literal["h264", "vp8"] = "h264"
    bitrate_kbps: int | None = Field(
        None,
        ge=100,
        le=100_000,
        description="the encoder's ceiling; None: from the pixel rate (ixstream/bitrate.py, "
        "2.5 Mbps at 720p30)",
    )
    min_bitrate_kbps: int = Field(500, ge=50, description="floor for receiver estimates")
    stereo: bool = False
    source: Literal["scene", "test-pattern"] = "scene"
    scene: Path | None = Field(None, description="glTF 2.0 scene; default: the sample")
    session_id: str | None = Field(None, description="when set, tokens must carry this sid")
    auth: bool = True
    jwt_secret: SecretStr | None = Field(None, description="HS256 key; at least 32 bytes")
    ice_servers: list[IceServer] = Field(
        default_factory=list, description="no public STUN by default: sites may be air-gapped"
    )
    ice_host_addresses: list[str] | None = Field(
        None, description="host candidates to offer (e.g. 127.0.0.1); None: every interface"
    )
    allow_hardware_encoder: bool = True
    host_sessions: int = Field(
        1,
        ge=1,
        le=256,
        description="sessions sharing this host's cores (a node's planned density, "
        "docs/capacity.md): each encoder starts at most its share of threads",
    )
    still_repeat_fps: float = Field(
        10.0,
        ge=0.5,
        le=144,
        description="while nothing in view changes, nothing is rendered and the last picture "
        "is re-encoded this often (at most the frame rate): a still scene costs a fraction "
        "of a moving one (issue 12)",
    )
    max_viewers: int = Field(16, ge=1, le=256)
    max_sdp_bytes: int = Field(65536, ge=1024)
    liveness_timeout_s: float = Field(
        5.0, gt=0, description="a connected viewer silent (no RTCP) this long is released"
    )
    connect_timeout_s: float = Field(10.0, gt=0, description="a viewer must connect within this")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins whose pages may use /whep (CORS); '*' any; default none: "
        "the orchestrator passes its own list to the streamers it starts",
    )

    @property
    def bitrate_ceiling_kbps(self) -> int:
        """The configured ceiling, or the one the stream's size and rate call for."""
        if self.bitrate_kbps is not None:
            return self.bitrate_kbps
        return default_bitrate_kbps(self.width, self.height, self.fps)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [normalise_origin(origin) for origin in value]

    @model_validator(mode="after")
    def _check(self) -> StreamerSettings:
        # The shader packs I420 four bytes per texel from half-width chroma rows.
        if self.width % 8 or self.height % 4:
            raise ValueError("width must be a multiple of 8 and height of 4 (I420 packing)")
        if self.port and self.port == self.metrics_port:
            raise ValueError(f"port and metrics_port must differ, both are {self.port}")
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("jwt_secret must be at least 32 bytes")
        return self
