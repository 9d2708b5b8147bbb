"""The dev login URL `ixstream up` prints carries its token in the fragment, which a
browser never sends to a server, so the operator token stays out of access logs."""

from __future__ import annotations

from urllib.parse import urlsplit

from orchestrator.cli import dev_login_url


def test_the_dev_login_url_carries_the_token_in_the_fragment_not_the_query() -> None:
    url = urlsplit(dev_login_url("http://127.0.0.1:8000", "a.b.c"))
    assert url.query == ""
    assert url.fragment == "token=a.b.c"
    assert url.path == "/"
