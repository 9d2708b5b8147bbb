"""The dev login URLs `ixstream up` prints: one per role (trainee, instructor, operator),
each carrying its token in the fragment, which a browser never sends to a server, so
the tokens stay out of access logs."""

from __future__ import annotations

from urllib.parse import urlsplit

import jwt
import pytest

from orchestrator.cli import _announce, dev_login_url
from orchestrator.settings import OrchestratorSettings


def test_the_dev_login_url_carries_the_token_in_the_fragment_not_the_query() -> None:
    url = urlsplit(dev_login_url("http://127.0.0.1:8000", "a.b.c"))
    assert url.query == ""
    assert url.fragment == "token=a.b.c"
    assert url.path == "/"


def test_dev_mode_prints_a_sign_in_link_for_each_role(capsys: pytest.CaptureFixture[str]) -> None:
    settings = OrchestratorSettings(mode="dev", port=8123)
    _announce(settings)
    printed = capsys.readouterr().err
    assert settings.jwt_secret is not None
    key = settings.jwt_secret.get_secret_value()
    for role in ("trainee", "instructor", "operator"):
        line = next(line for line in printed.splitlines() if line.strip().startswith(role))
        url = urlsplit(line.split()[-1])
        assert (url.netloc, url.path) == ("127.0.0.1:8123", "/")
        claims = jwt.decode(
            url.fragment.removeprefix("token="),
            key,
            audience=settings.jwt_audience,
            algorithms=["HS256"],
        )
        assert (claims["role"], claims["sub"]) == (role, f"dev-{role}")
