"""Learning records are off unless configured, and a half or contradictory
configuration is refused at start with what is missing, never echoing a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from orchestrator.learning.settings import LearningSettings
from orchestrator.settings import OrchestratorSettings

ON = {
    "lrs_endpoint": "https://lrs.example.org/xapi",
    "activity_base": "https://lms.example.org/ixstream",
    "actor_home_page": "https://idp.example.org",
}


def test_off_by_default() -> None:
    settings = OrchestratorSettings(jwt_secret=None, state_dir=Path("/nonexistent"))
    assert settings.learning.enabled is False


def test_read_from_the_environment_with_the_nested_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IXS_ORCH_LEARNING__LRS_ENDPOINT", ON["lrs_endpoint"])
    monkeypatch.setenv("IXS_ORCH_LEARNING__ACTIVITY_BASE", ON["activity_base"])
    monkeypatch.setenv("IXS_ORCH_LEARNING__ACTOR_HOME_PAGE", ON["actor_home_page"])
    monkeypatch.setenv("IXS_ORCH_LEARNING__LRS_TOKEN", "t0ken")
    learning = OrchestratorSettings().learning
    assert learning.enabled
    assert learning.activity_base == "https://lms.example.org/ixstream/"  # joined with a /
    assert learning.lrs_token is not None
    assert learning.lrs_token.get_secret_value() == "t0ken"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lrs_endpoint": ON["lrs_endpoint"]}, "needs IXS_ORCH_LEARNING__ACTIVITY_BASE"),
        ({**ON, "activity_base": None}, "needs IXS_ORCH_LEARNING__ACTIVITY_BASE"),
        ({**ON, "lrs_endpoint": "lrs.example.org/xapi"}, "is not an http(s) URL"),
        ({**ON, "activity_base": "ixstream/activities"}, "is not an absolute IRI"),
        ({**ON, "lrs_username": "u"}, "set both"),
        ({**ON, "lrs_username": "u", "lrs_password": "hunter2", "lrs_token": "t"}, "not both"),
    ],
)
def test_an_incomplete_configuration_is_refused_with_the_reason(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        LearningSettings.model_validate(values)
    assert message in str(refused.value)
    assert "hunter2" not in str(refused.value)
