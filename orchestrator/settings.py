"""The orchestrator's one settings object (environment prefix `IXS_ORCH_`).

Following the FastAPI full-stack template, secrets have no defaults outside dev mode:
production refuses to start without an API signing key or an OIDC issuer and JWKS
URL, and a configured key is refused unless it looks random (`key_strength`). Dev
mode generates a random key at start-up and, because whoever can read its console then
holds an operator token, refuses to listen on anything but a loopback address.

Every field's description gives its unit; docs/orchestrator.md has the same table.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ixstream.cors import ANY, normalise_origin, origin_of
from orchestrator.backends.base import Codec
from orchestrator.backends.kubernetes.settings import KubernetesSettings
from orchestrator.ice.settings import IceSettings
from orchestrator.identity import Role
from orchestrator.key_strength import GENERATE_HINT, MIN_SECRET_BYTES, key_weakness
from orchestrator.learning.settings import LearningSettings


class OrchestratorSettings(BaseSettings):
    # `__` nests: `IXS_ORCH_KUBERNETES__POOL_BUFFER=2` sets `kubernetes.pool_buffer`, the
    # names the manifests in k8s/ and the Helm chart set.
    # hide_input_in_errors: a refused key or seed is never echoed in the error.
    model_config = SettingsConfigDict(
        env_prefix="IXS_ORCH_", env_nested_delimiter="__", extra="forbid", hide_input_in_errors=True
    )

    mode: Literal["dev", "production"] = Field(
        default="dev",
        description="`dev` generates a signing key and prints a login URL (loopback only); "
        "`production` requires `jwt_secret` or `oidc_issuer` + `oidc_jwks_url`.",
    )
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port the API listens on.")
    public_url: str | None = Field(
        default=None,
        description="Base URL clients reach the API at (e.g. behind a proxy); "
        "default: the URL of each request.",
    )
    cors_origins: list[str] | None = Field(
        default=None,
        description="Origins whose pages may use the WHEP endpoints (the proxy and, passed "
        "on, each streamer's own) from another origin, as a JSON list; `*` any. Default: "
        "the origin of `public_url` if set, and any origin in dev mode.",
    )

    # --- authentication
    jwt_secret: SecretStr | None = Field(
        default=None,
        description=f"HS256 key for API tokens: at least {MIN_SECRET_BYTES} random bytes "
        "(repeated, sequential or dictionary keys are refused).",
    )
    jwt_secret_file: Path | None = Field(
        default=None,
        description="A file holding the HS256 key (e.g. a mounted Kubernetes Secret); "
        "instead of `jwt_secret`.",
    )
    jwt_audience: str = Field(
        default="ixstream-orchestrator", description="Required `aud` claim of API tokens."
    )
    oidc_issuer: str | None = Field(
        default=None, description="Required `iss` of OIDC access tokens."
    )
    oidc_jwks_url: str | None = Field(default=None, description="JWKS URL of the OIDC issuer.")
    oidc_client_id: str | None = Field(
        default=None,
        description="Client id of the web pages at the OIDC issuer (a public client, PKCE "
        'S256; docs/sign-in.md). Set: the pages offer "Sign in with <organisation>" and the '
        "page CSP admits the issuer's origin for `connect-src`.",
    )
    oidc_scopes: str = Field(
        default="openid profile",
        description="Scopes the web pages ask the OIDC issuer for, space-separated; must "
        "include `openid`.",
    )
    oidc_organisation: str = Field(
        default="your organisation",
        description="The identity provider's name as users know it, on the sign-in button "
        '("Sign in with Regional Fire Service").',
    )
    role_claim: str = Field(
        default="role",
        description="Claim holding the caller's role or groups (a string or a list of "
        "strings), e.g. `groups` with an identity provider.",
    )
    role_mapping: dict[str, Role] = Field(
        default_factory=dict,
        description="Names in the role claim (an identity provider's groups) → IX Stream "
        'roles, e.g. `{"/training/instructors": "instructor"}`. Empty: the names `trainee`, '
        "`instructor` and `operator` themselves. Other names are ignored.",
    )
    multiple_roles: Literal["refuse", "least", "most"] = Field(
        default="refuse",
        description="A claim naming several different roles: `refuse` (403, the default: "
        "an ambiguous grant is a configuration error at the identity provider), `least` "
        "or `most` privileged.",
    )
    session_token_ttl_s: float = Field(
        default=3600, gt=0, description="Lifetime of session (signalling) tokens, seconds."
    )

    # --- capacity and lifetime
    max_sessions: int = Field(default=4, ge=1, description="Sessions holding a streamer at once.")
    pool_size: int = Field(
        default=1,
        ge=0,
        description="Warm (ready, unclaimed) streamers this replica keeps (`local` only: on "
        "`kubernetes` the pool is cluster-wide, `kubernetes.pool_buffer`).",
    )
    queue_limit: int = Field(default=100, ge=0, description="Most sessions waiting for capacity.")
    retry_after_s: int = Field(
        default=5, ge=1, description="`Retry-After` sent with 429 when full, seconds."
    )
    idle_timeout_s: float = Field(
        default=300, gt=0, description="End a session with no viewer for this long, seconds."
    )
    scenario_end_grace_s: float = Field(
        default=15,
        ge=0,
        description="End a session this long after its scenario ended by itself (a trigger's "
        "`end`), seconds: time for the trainee to read the outcome.",
    )
    max_duration_s: float = Field(
        default=4 * 3600,
        gt=0,
        description="End a session this long after it became ready, seconds.",
    )
    start_timeout_s: float = Field(
        default=30, gt=0, description="Fail a streamer that is not ready after this long, seconds."
    )
    stop_grace_s: float = Field(
        default=3,
        ge=0,
        description="Wait after SIGTERM before SIGKILL, seconds (the streamer needs 2).",
    )
    reconcile_interval_s: float = Field(
        default=1.0, gt=0, description="Period of the watch/reap loop, seconds."
    )
    unresponsive_after: int = Field(
        default=5,
        ge=1,
        description="Failed status polls in a row before a live streamer is failed.",
    )
    ended_retention_s: float = Field(
        default=3600,
        ge=0,
        description="Keep ended and failed sessions listable this long, seconds.",
    )
    shutdown_policy: Literal["end", "keep"] = Field(
        default="end",
        description="On a clean shutdown, `end` every session and warm streamer, or `keep` "
        "them running for the next run to re-adopt.",
    )

    # --- streamers
    backend: Literal["local", "kubernetes"] = Field(
        default="local",
        description="Where streamers run: `local` processes, or `kubernetes` pods (one per "
        "session, GPU-scheduled; the warm pool is then cluster-wide, see `kubernetes`).",
    )
    kubernetes: KubernetesSettings = Field(
        default_factory=lambda: KubernetesSettings.model_validate({}),
        description="The Kubernetes backend (`IXS_ORCH_KUBERNETES__<FIELD>`; "
        "docs/kubernetes.md). Read only when `backend` is `kubernetes`.",
    )
    ice: IceSettings = Field(
        default_factory=lambda: IceSettings.model_validate({}),
        description="ICE servers handed to browsers with every WHEP URL, and to streamer "
        "pods (`IXS_ORCH_ICE__<FIELD>`; docs/kubernetes.md, TURN). None by default.",
    )
    default_scenario: str = Field(
        default="sample", description="Scenario used when none is asked for."
    )
    scenes_dir: Path | None = Field(
        default=None,
        description="Folder of `.glb` scenes; each file is a scenario named by its stem.",
    )
    scenario_dir: Path = Field(
        # The checkout's library, wherever the process starts; deployments mount their own.
        default_factory=lambda: Path(__file__).resolve().parent.parent / "scenarios",
        description="The scenario library: one `<id>.yaml` scenario document per file "
        "(docs/scenarios.md); instructors and operators upload through the API.",
    )
    default_width: int = Field(
        default=1280, ge=16, le=7680, description="Default frame width, pixels."
    )
    default_height: int = Field(
        default=720, ge=16, le=4320, description="Default frame height, pixels."
    )
    default_fps: int = Field(default=60, ge=1, le=144, description="Default frame rate, frames/s.")
    default_codec: Codec = Field(
        default="h264", description="Codec when the client states no preference."
    )
    bitrate_kbps: int | None = Field(
        default=None,
        ge=100,
        description="Streamers' bitrate ceiling, kbit/s; unset: from each session's size and "
        "rate (0.09 bit per pixel per frame: 2.5 Mbps at 720p30, 5 Mbps at 720p60).",
    )
    streamer_host: str = Field(default="127.0.0.1", description="Address local streamers bind to.")
    streamer_ice_hosts: list[str] | None = Field(
        default=None,
        description="Host ICE candidates streamers offer; default: 127.0.0.1 when the API "
        "listens on loopback, else every interface.",
    )
    whep_timeout_s: float = Field(
        default=15, gt=0, description="Time allowed for a streamer to answer a WHEP offer, seconds."
    )

    # --- live feed (GET /v1/events, orchestrator/feed/)
    feed_heartbeat_s: float = Field(
        default=15,
        gt=0,
        description="Idle time after which an event stream gets a comment line, seconds "
        "(proxies cut streams silent for longer than their read timeout, often 30-60 s).",
    )
    feed_retry_ms: int = Field(
        default=2000,
        ge=0,
        description="Reconnection delay the stream asks clients to wait (`retry:`), ms.",
    )
    feed_ring_size: int = Field(
        default=1024,
        ge=1,
        description="Events kept for resuming with `Last-Event-ID`; older ids get `reset`.",
    )
    feed_streams_per_principal: int = Field(
        default=8,
        ge=1,
        description="Open event streams one caller (`sub`) may hold; more are refused (429).",
    )

    # --- files
    state_dir: Path = Field(
        default=Path(".state/orchestrator"),
        description="Where the local backend keeps one JSON file per streamer, their keys "
        "and logs, and the session journal.",
    )
    audit_log: Path | None = Field(
        default=None, description="Audit log (JSON lines); default `<state_dir>/audit.jsonl`."
    )
    aar_dir: Path | None = Field(
        default=None,
        description="After-action logs, one `<session_id>.jsonl` per session that ran a "
        "scenario document; default `<state_dir>/aar`.",
    )
    aar_retention_days: float = Field(
        default=30,
        ge=1,
        description="Delete after-action logs last written longer ago than this, days "
        "(checked at start and hourly).",
    )
    recordings_retention_days: float = Field(
        default=30,
        ge=1,
        description="Delete session recordings older than this, days (checked at start and "
        "hourly); recordings show trainees, so keep them no longer than needed.",
    )
    recordings_dir: Path | None = Field(
        default=None,
        description="Session recordings (`record: true`), `<session_id>.mp4` or `.webm`; "
        "default `<state_dir>/recordings`.",
    )
    web_root: Path | None = Field(
        default=None,
        description="Static web client served at `/`; default `clients/web/` once it has an "
        "`index.html`, else a built-in page.",
    )
    learning: LearningSettings = Field(
        default_factory=lambda: LearningSettings.model_validate({}),
        description="xAPI learning records sent to an LRS (`IXS_ORCH_LEARNING__<FIELD>`; "
        "docs/learning-records.md). Off unless `lrs_endpoint` is set.",
    )
    log_json: bool = Field(
        default=True, description="Structured JSON logs (false: console format)."
    )

    # Not a setting: true when dev mode generated `jwt_secret`, so the CLI can say so.
    _generated_secret: bool = PrivateAttr(False)

    @model_validator(mode="after")
    def _refuse_unsafe_configuration(self) -> OrchestratorSettings:
        if self.jwt_secret_file is not None:
            if self.jwt_secret is not None:
                raise ValueError("set IXS_ORCH_JWT_SECRET or IXS_ORCH_JWT_SECRET_FILE, not both")
            self.jwt_secret = SecretStr(_read_key_file(self.jwt_secret_file))
        if self.jwt_secret is not None:
            _check_secret(self.jwt_secret.get_secret_value())
        if (self.oidc_issuer is None) != (self.oidc_jwks_url is None):
            raise ValueError("set both IXS_ORCH_OIDC_ISSUER and IXS_ORCH_OIDC_JWKS_URL, or neither")
        if self.oidc_client_id is not None:
            _check_oidc_sign_in(self.oidc_issuer, self.oidc_scopes)
        if self.backend == "kubernetes" and self.kubernetes.streamer_key_seed is None:
            raise ValueError(
                "the kubernetes backend needs IXS_ORCH_KUBERNETES__STREAMER_KEY_SEED, the same "
                f"on every replica, to derive streamer keys from; {GENERATE_HINT}"
            )
        has_key = self.jwt_secret is not None or self.oidc_jwks_url is not None
        if self.mode == "production":
            if not has_key:
                raise ValueError(
                    "production mode needs IXS_ORCH_JWT_SECRET or IXS_ORCH_OIDC_ISSUER and "
                    "IXS_ORCH_OIDC_JWKS_URL; there is no default key"
                )
            return self
        if not _is_loopback(self.host):
            raise ValueError(
                f"dev mode prints an operator token and listens on loopback only, not "
                f"{self.host!r}; set IXS_ORCH_MODE=production with a key to serve a network"
            )
        if not has_key:
            self.jwt_secret = SecretStr(secrets.token_urlsafe(MIN_SECRET_BYTES))
            self._generated_secret = True
        return self

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [normalise_origin(origin) for origin in value]

    @property
    def allowed_origins(self) -> list[str]:
        """The origins CORS admits on WHEP endpoints: `cors_origins` when set; else
        our own (`public_url`'s) and, in dev mode, any."""
        if self.cors_origins is not None:
            return self.cors_origins
        own = [origin_of(self.public_url)] if self.public_url else []
        return [*own, ANY] if self.mode == "dev" else own

    @property
    def ice_hosts(self) -> list[str] | None:
        """Host candidates for streamers (aioice never offers loopback by itself)."""
        if self.streamer_ice_hosts is not None:
            return self.streamer_ice_hosts
        return ["127.0.0.1"] if _is_loopback(self.host) else None

    @property
    def generated_secret(self) -> bool:
        return self._generated_secret

    @property
    def audit_path(self) -> Path:
        return self.audit_log if self.audit_log is not None else self.state_dir / "audit.jsonl"

    @property
    def aar_path(self) -> Path:
        return self.aar_dir if self.aar_dir is not None else self.state_dir / "aar"

    @property
    def recordings_path(self) -> Path:
        return (
            self.recordings_dir
            if self.recordings_dir is not None
            else self.state_dir / "recordings"
        )


def _check_secret(value: str) -> None:
    weakness = key_weakness(value)
    if weakness is not None:
        raise ValueError(f"IXS_ORCH_JWT_SECRET {weakness}; {GENERATE_HINT}")


def _check_oidc_sign_in(issuer: str | None, scopes: str) -> None:
    """The pages' sign-in needs an issuer to discover and an OpenID scope (OIDC Core
    §3.1.2.1: without `openid` the provider returns no ID token, so no `nonce` check)."""
    if issuer is None:
        raise ValueError("IXS_ORCH_OIDC_CLIENT_ID needs IXS_ORCH_OIDC_ISSUER (and _JWKS_URL)")
    if "openid" not in scopes.split():
        raise ValueError(f"IXS_ORCH_OIDC_SCOPES must include `openid` (got {scopes!r})")


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"IXS_ORCH_JWT_SECRET_FILE {path} cannot be read: {exc}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
