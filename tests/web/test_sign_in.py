"""Sign-in with the organisation's identity provider, end to end: a real OpenID provider
(panva's certified `oidc-provider`, clients/web/test-support/oidc-provider.mjs) on a
loopback port, a real orchestrator verifying its tokens through the JWKS and mapping its
`groups` to roles, and headless Chromium going through the provider's own login and
consent pages.

Covered: sign in lands on the launcher with the role the orchestrator mapped (not one
the page guessed) and a working API; the access token is refreshed before it expires,
on the operations console too;
sign out ends the provider's session (its refresh token is refused afterwards, and the
next sign-in asks for a login again). Failures read as words: an answer with a forged
`state`, consent denied, a group that maps to no role, a provider that cannot be reached.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.waiting import wait_until
from tests.web.conftest import (
    WEB_ROOT,
    Orchestrator,
    free_port,
    new_page,
    start_orchestrator,
    stop,
    until,
)

SUPPORT = WEB_ROOT / "test-support"
PROVIDER_SCRIPT = SUPPORT / "oidc-provider.mjs"
CLIENT_ID = "ixstream-web"
ORGANISATION = "Test Fire Service"
ACCESS_TTL_S = 10  # short, so the page must refresh within the test
ACCOUNTS = {
    "tina": ["/training/trainees", "all-staff"],
    "ivan": ["/training/instructors", "all-staff"],
    "olga": ["/ops/ix-stream"],
    "nora": ["all-staff"],  # signs in at the provider; no role here
}
ROLE_MAPPING = {
    "/training/trainees": "trainee",
    "/training/instructors": "instructor",
    "/ops/ix-stream": "operator",
}
TOKEN = "sessionStorage.getItem('ixstream.apiToken')"
OIDC_TOKENS = "JSON.parse(sessionStorage.getItem('ixstream.oidc.tokens') || 'null')"


@dataclass
class Provider:
    proc: subprocess.Popen[bytes]
    issuer: str
    log_path: Path


@dataclass
class Site:
    provider: Provider
    orchestrator: Orchestrator


def start_provider(tmp: Path, port: int, redirect_uri: str) -> Provider:
    if not (SUPPORT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("oidc-provider is missing: run `npm ci --prefix clients/web/test-support`")
    options = {
        "port": port,
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri,
        "audience": "ixstream-orchestrator",
        "access_ttl_s": ACCESS_TTL_S,
        "accounts": ACCOUNTS,
    }
    log_path = tmp / "oidc-provider.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["node", str(PROVIDER_SCRIPT), json.dumps(options)],
            cwd=SUPPORT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"the provider exited {proc.returncode}:\n{log_path.read_text()}")
        return f"ready {issuer}" in log_path.read_text()

    wait_until(ready, 30, "the OpenID provider listening", interval_s=0.05)
    return Provider(proc, issuer, log_path)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The provider's port is chosen first so the orchestrator can be told its issuer;
    the provider learns the page's address (its redirect URI) once the orchestrator runs.
    No warm streamer: signing in needs none."""
    tmp = tmp_path_factory.mktemp("sign-in")
    issuer = f"http://127.0.0.1:{free_port()}"
    orchestrator = start_orchestrator(
        tmp,
        pool=0,
        env={
            "IXS_ORCH_OIDC_ISSUER": issuer,
            "IXS_ORCH_OIDC_JWKS_URL": f"{issuer}/jwks",
            "IXS_ORCH_OIDC_CLIENT_ID": CLIENT_ID,
            "IXS_ORCH_OIDC_ORGANISATION": ORGANISATION,
            "IXS_ORCH_ROLE_CLAIM": "groups",
            "IXS_ORCH_ROLE_MAPPING": json.dumps(ROLE_MAPPING),
        },
    )
    try:
        provider = start_provider(tmp, int(issuer.rsplit(":", 1)[1]), f"{orchestrator.base_url}/")
    except BaseException:
        stop(orchestrator.proc)
        raise
    yield Site(provider, orchestrator)
    stop(provider.proc)
    stop(orchestrator.proc)


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no provider cookies) that never reaches past loopback:
    the provider's stock pages import a web font, which a closed network cannot serve."""
    page = await new_page(browser)
    await page.context.route("https://fonts.googleapis.com/**", lambda route: route.abort())
    yield page
    await page.context.close()


async def sign_in_at_provider(page: Page, site: Site, login: str, consent: bool = True) -> None:
    """From the sign-in view, through the provider's own login and consent pages."""
    await page.goto(f"{site.orchestrator.base_url}/")
    await page.get_by_role("button", name=f"Sign in with {ORGANISATION}").click()
    await page.wait_for_url(f"{site.provider.issuer}/interaction/**")
    await page.locator("input[name=login]").fill(login)
    await page.locator("input[name=password]").fill("any password")
    await page.get_by_role("button", name="Sign-in").click()
    await expect(page.get_by_role("button", name="Continue")).to_be_visible()
    if consent:
        await page.get_by_role("button", name="Continue").click()
    else:
        await page.get_by_role("link", name="[ Cancel ]").click()
    await page.wait_for_url(f"{site.orchestrator.base_url}/**")


async def problem_shown(page: Page) -> str:
    card = page.locator("#signin-problem")
    await expect(card).to_be_visible()
    return str(await card.locator("[data-field=title]").text_content())


async def test_a_trainer_signs_in_is_kept_signed_in_and_signs_out_at_the_provider(
    site: Site, page: Page
) -> None:
    await sign_in_at_provider(page, site, "ivan")

    # Signed in with the role the orchestrator mapped from the provider's groups.
    await expect(page.locator("#who-name")).to_have_text("ivan")
    await expect(page.locator("#who-role")).to_have_text("instructor")
    assert "code=" not in page.url
    assert "state=" not in page.url
    # An API call with the provider's token works: the scenarios are listed.
    await expect(page.locator("#scenarios input[name=scenario]").first).to_be_attached()

    # Refreshed before expiry, and the new token works.
    first: dict[str, Any] = await page.evaluate(OIDC_TOKENS)
    assert first["refreshToken"]
    assert first["accessToken"] == await page.evaluate(TOKEN)
    await until(
        page, TOKEN, lambda token: token != first["accessToken"], ACCESS_TTL_S + 20, "a refresh"
    )
    renewed: dict[str, Any] = await page.evaluate(OIDC_TOKENS)
    assert renewed["expiresAt"] > first["expiresAt"]
    async with httpx.AsyncClient() as client:
        me = await client.get(
            f"{site.orchestrator.base_url}/v1/me",
            headers={"Authorization": f"Bearer {renewed['accessToken']}"},
        )
    assert me.json() == {"subject": "ivan", "role": "instructor"}
    assert await page.evaluate("window.ixClient.api.token") == renewed["accessToken"]

    # Sign out: the provider asks, ends its session, and sends the browser back.
    last: dict[str, Any] = await page.evaluate(OIDC_TOKENS)
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{site.provider.issuer}/session/end**")
    await page.get_by_role("button", name="Yes, sign me out").click()
    await page.wait_for_url(f"{site.orchestrator.base_url}/**")
    await expect(page.get_by_role("button", name=f"Sign in with {ORGANISATION}")).to_be_visible()
    assert await page.evaluate("sessionStorage.length") == 0
    async with httpx.AsyncClient() as client:
        refused = await client.post(
            f"{site.provider.issuer}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": last["refreshToken"],
                "client_id": CLIENT_ID,
            },
        )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    # The provider session is over: signing in again asks who you are.
    await page.get_by_role("button", name=f"Sign in with {ORGANISATION}").click()
    await expect(page.locator("input[name=login]")).to_be_visible()


async def test_a_trainee_lands_with_the_trainee_role(site: Site, page: Page) -> None:
    await sign_in_at_provider(page, site, "tina")
    await expect(page.locator("#who-role")).to_have_text("trainee")
    await expect(page.locator("#operator-link")).to_be_hidden()
    # Another page of the tab shows the role the server granted, not a guess from a claim.
    await page.goto(f"{site.orchestrator.base_url}/operator.html")
    await expect(page.locator("#who-role")).to_have_text("trainee")


async def test_the_operations_console_keeps_working_past_the_first_tokens_expiry(
    site: Site, page: Page
) -> None:
    """Every page renews the token, not only the one that signed in (auth.js keepApiFresh)."""
    await sign_in_at_provider(page, site, "olga")
    await page.get_by_role("link", name="Operations console").click()
    await expect(page.locator("[data-view=console]")).to_be_visible()
    first: dict[str, Any] = await page.evaluate(OIDC_TOKENS)
    await until(
        page, "Date.now() / 1000", lambda now: now > first["expiresAt"] + 2, ACCESS_TTL_S + 20
    )
    # The server ends a feed stream when its token expires (orchestrator/feed/): the page's
    # live feed must come back with the renewed token, or the console is refused.
    await until(
        page,
        "window.ixClient.feed.liveSince / 1000",
        lambda since: since > first["expiresAt"],
        ACCESS_TTL_S + 20,
        "the live feed reconnecting after the first token expired",
    )
    await expect(page.locator("[data-view=denied]")).to_be_hidden()
    await expect(page.locator("#stale")).to_be_hidden()
    renewed = await page.evaluate("window.ixClient.api.token")
    assert renewed != first["accessToken"]
    assert await page.evaluate("window.ixClient.feed.credentials.token") == renewed
    # And a call made now, with the renewed token, is answered.
    assert await page.evaluate("window.ixClient.api.listSessions().then(r => r.items.length >= 0)")


async def test_an_answer_with_a_forged_state_is_refused_in_words(site: Site, page: Page) -> None:
    await page.goto(f"{site.orchestrator.base_url}/?code=stolen-code&state=forged")
    assert await problem_shown(page) == "That sign-in could not be confirmed."
    assert await page.evaluate(TOKEN) is None
    assert "stolen-code" not in page.url


async def test_denied_consent_says_sign_in_was_cancelled(site: Site, page: Page) -> None:
    await sign_in_at_provider(page, site, "tina", consent=False)
    assert await problem_shown(page) == "Sign-in was cancelled."
    assert await page.evaluate(TOKEN) is None


async def test_a_group_that_maps_to_no_role_is_told_so_and_may_switch_account(
    site: Site, page: Page
) -> None:
    await sign_in_at_provider(page, site, "nora")
    assert await problem_shown(page) == "Your account has no role on this training platform."
    await expect(page.locator("#account")).to_be_hidden()
    assert await page.evaluate(TOKEN) is None
    # The provider still knows nora; the page offers to end that too, for another account.
    await page.get_by_role(
        "link", name=f"Sign out of {ORGANISATION} to use another account"
    ).click()
    await page.get_by_role("button", name="Yes, sign me out").click()
    await page.wait_for_url(f"{site.orchestrator.base_url}/**")
    await page.get_by_role("button", name=f"Sign in with {ORGANISATION}").click()
    await expect(page.locator("input[name=login]")).to_be_visible()


async def test_an_unreachable_provider_is_named_not_a_blank_page(site: Site, page: Page) -> None:
    async def unreachable(route: Route) -> None:
        await route.abort("connectionrefused")

    await page.route(f"{site.provider.issuer}/**", unreachable)
    await page.goto(f"{site.orchestrator.base_url}/")
    await page.get_by_role("button", name=f"Sign in with {ORGANISATION}").click()
    assert await problem_shown(page) == f"{ORGANISATION}'s sign-in service cannot be reached."
    await expect(page.get_by_role("button", name=f"Sign in with {ORGANISATION}")).to_be_enabled()
