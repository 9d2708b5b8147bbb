"""What a page does with hostile content and hostile neighbours, in Chromium.

An instructor's scenario document is free text shown to other people: a title and a
caption carrying markup must be shown as text, never run (the script would read the
viewer's token). Every page and API answer carries the security headers that make
that true even where a future page slips (Content-Security-Policy with no inline
script, `frame-ancestors 'none'`, nosniff, no referrer), and the sign-in lives in
sessionStorage, never localStorage. Runs its own orchestrator on a copy of the library,
so the hostile document never lands in the repository's `scenarios/`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import (
    ROOT,
    Orchestrator,
    new_page,
    playing,
    start_orchestrator,
    stop,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE_TITLE = '<img src=x onerror="window.ixPwned=1">Stop'
HOSTILE_CAPTION = "<script>window.ixPwned=2</script><b>Call it in</b>"
PAGES = ["/", "/operator.html", "/instruct.html", "/watch.html", "/review.html"]


@pytest.fixture(scope="module")
def hostile_library_orchestrator(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Orchestrator]:
    tmp = tmp_path_factory.mktemp("hardening")
    library = tmp / "library"
    shutil.copytree(ROOT / "scenarios", library)
    instance = start_orchestrator(tmp, env={"IXS_ORCH_SCENARIO_DIR": str(library)})
    try:
        document = (library / "traffic-stop-night.yaml").read_text(encoding="utf-8")
        hostile = document.replace("id: traffic-stop-night", "id: hostile-stop").replace(
            "title: Traffic stop at night", f"title: '{HOSTILE_TITLE}'"
        )
        hostile = hostile.replace(
            "text: You have stopped this car for a broken tail light. Call it in, then approach.",
            f'text: "{HOSTILE_CAPTION}"',
        )
        with instance.api("instructor") as api:
            put = api.put(
                "/v1/scenarios/hostile-stop",
                content=hostile,
                headers={"Content-Type": "application/yaml"},
            )
            assert put.status_code == 201, put.text
        yield instance
    finally:
        stop(instance.proc)


def test_every_page_and_api_answer_carries_the_security_headers(
    hostile_library_orchestrator: Orchestrator,
) -> None:
    base = hostile_library_orchestrator.base_url
    with httpx.Client(base_url=base, timeout=10) as client:
        answers = [client.get(path) for path in PAGES] + [client.get("/v1/sessions")]
    for answer in answers:
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert answers[-1].status_code == 401  # the API still refuses, and says so with headers


async def test_a_hostile_title_and_caption_are_shown_as_text_and_never_run(
    hostile_library_orchestrator: Orchestrator, browser: Browser
) -> None:
    orchestrator = hostile_library_orchestrator
    trainee = await new_page(browser)
    await trainee.goto(f"{orchestrator.base_url}/#token={orchestrator.token('trainee', 'tia')}")
    await trainee.locator("input[name=scenario][value='hostile-stop']").check()
    await trainee.get_by_role("button", name="Start session").click()
    await playing(trainee)
    caption = trainee.locator("#stage [data-role=caption]")
    await expect(caption).to_have_text(HOSTILE_CAPTION, timeout=30_000)
    assert await caption.locator("script, b").count() == 0

    session = await trainee.evaluate("window.ixClient.session")
    console = await new_page(browser, 1366, 900)
    token = orchestrator.token("instructor", "ivy")
    url = f"{orchestrator.base_url}/instruct.html?session={session['id']}#token={token}"
    await console.goto(url)
    title = console.locator("#scenario-title")
    await expect(title).to_have_text(HOSTILE_TITLE, timeout=30_000)
    assert await title.locator("img").count() == 0

    for page in (trainee, console):
        assert await page.evaluate("window.ixPwned") is None
        assert await page.evaluate("localStorage.getItem('ixstream.apiToken')") is None
        assert await page.evaluate("sessionStorage.getItem('ixstream.apiToken')")
