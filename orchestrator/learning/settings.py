"""Settings of learning records: where the Learning Record Store is, how we sign in to
it, and the IRIs our statements use.

A pydantic model nested in `OrchestratorSettings` (`IXS_ORCH_LEARNING__<FIELD>`), like
the Kubernetes backend's. Everything is off until `lrs_endpoint` is set; with it, the
activity IRI base and the actor home page are required, because a statement that
names no organisation's activities or accounts is of no use to its LRS.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class LearningSettings(BaseModel):
    # hide_input_in_errors: a refused password or token is never echoed in the error.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    lrs_endpoint: str | None = Field(
        None,
        description="The LRS's xAPI base URL (statements go to `<endpoint>/statements`); "
        "unset: learning records are off and nothing leaves the system.",
    )
    lrs_username: str | None = Field(
        None, description="HTTP Basic user (RFC 7617) for the LRS; with `lrs_password`."
    )
    lrs_password: SecretStr | None = Field(None, description="HTTP Basic password for the LRS.")
    lrs_token: SecretStr | None = Field(
        None, description="Bearer token (RFC 6750) for the LRS, instead of Basic."
    )
    activity_base: str | None = Field(
        None,
        description="IRI every activity id starts with, e.g. `https://lms.example.org/ixstream/` "
        "(scenarios, triggers, instructor events, extensions); required with `lrs_endpoint`.",
    )
    actor_home_page: str | None = Field(
        None,
        description="`account.homePage` of every actor: the system whose user names the "
        "session subjects are (e.g. the identity provider's URL); required with `lrs_endpoint`.",
    )
    outbox_dir: Path | None = Field(
        None,
        description="Statements waiting for, refused by, or delivered to the LRS; default "
        "`<state_dir>/learning`.",
    )
    timeout_s: float = Field(10, gt=0, description="Time allowed for one LRS request, seconds.")
    retry_initial_s: float = Field(
        1, gt=0, description="First wait after a failed delivery, seconds (doubles each time)."
    )
    retry_max_s: float = Field(
        300, gt=0, description="Longest wait between delivery attempts, seconds."
    )
    delivered_retention_days: float = Field(
        30,
        gt=0,
        description="Remember delivered statement ids this long, days, so a fact seen again "
        "(e.g. a log pulled twice across a restart) is not sent again.",
    )

    @field_validator("lrs_endpoint", "actor_home_page")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("activity_base")
    @classmethod
    def _iri_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not urlsplit(value).scheme:
            raise ValueError(f"{value!r} is not an absolute IRI (RFC 3987)")
        # Ids are the base plus a path: make the join unambiguous.
        return value if value.endswith(("/", ":", "#")) else value + "/"

    @model_validator(mode="after")
    def _complete(self) -> LearningSettings:
        if self.lrs_endpoint is None:
            return self
        if self.activity_base is None or self.actor_home_page is None:
            raise ValueError(
                "IXS_ORCH_LEARNING__LRS_ENDPOINT needs IXS_ORCH_LEARNING__ACTIVITY_BASE and "
                "IXS_ORCH_LEARNING__ACTOR_HOME_PAGE"
            )
        if self.lrs_token is not None and self.lrs_username is not None:
            raise ValueError("set an LRS bearer token or a Basic user and password, not both")
        if (self.lrs_username is None) != (self.lrs_password is None):
            raise ValueError("set both IXS_ORCH_LEARNING__LRS_USERNAME and __LRS_PASSWORD")
        return self

    @property
    def enabled(self) -> bool:
        return self.lrs_endpoint is not None
