"""Fixtures for the web client's browser tests: a real orchestrator, real streamers,
Debian's headless Chromium, and the pieces a page needs around them.

`orchestrator` starts `ixstream up` (dev mode, local process backend) as a subprocess on
a free loopback port with a known signing key, so tests can mint API tokens for any
role; its streamers render the sample scene at 640×360@30 to spare the 2-core CI
machines. It is shared by the tests of one module: a session per test is cheap (a warm
streamer is claimed), an orchestrator start is not.

`static_streamer_page` serves `clients/web/` under a single streamer's own origin, so
the viewer can be exercised against `/whep` directly (no orchestrator, no CORS).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Route

from orchestrator.auth import mint_api_token
from orchestrator.identity import Role
from tests.browser import chromium
from tests.metrics import scrape
from tests.waiting import eventually, wait_until

ROOT = Path(__file__).resolve().parents[2]
WEB_ROOT = ROOT / "clients" / "web"
IWER = WEB_ROOT / "test-support" / "node_modules" / "iwer" / "build" / "iwer.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SECRET = "web-client-tests-Pz6Wq1Nr8Ks3Vd5Jt9Hm2Lx"  # dev-mode key; tests mint tokens with it
AUDIENCE = "ixstream-orchestrator"
STREAM = {"width": 640, "height": 360, "fps": 30}
START_TIMEOUT_S = 90.0


@dataclass
class Orchestrator:
    proc: subprocess.Popen[bytes]
    base_url: str
    state_dir: Path
    log_path: Path

    def token(self, role: str = "trainee", subject: str | None = None) -> str:
        return mint_api_token(
            SECRET,
            subject=subject or f"{role}-tester",
            role=Role(role),
            audience=AUDIENCE,
            now=time.time(),
            ttl_s=3600,
        )

    def api(self, role: str = "operator") -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(role)}"},
            timeout=10,
        )

    def session(self, session_id: str) -> dict[str, Any]:
        with self.api() as client:
            body: dict[str, Any] = (
                client.get(f"/v1/sessions/{session_id}").raise_for_status().json()
            )
            return body

    def streamer_record(self, session_id: str) -> dict[str, Any]:
        """The local backend's record of the streamer serving a session (PID, port...)."""
        for path in (self.state_dir / "streamers").glob("*.json"):
            record: dict[str, Any] = json.loads(path.read_text())
            if record.get("session_id") == session_id and record.get("pid"):
                return record
        raise AssertionError(f"no streamer record for session {session_id}")

    def streamer_pid(self, session_id: str) -> int:
        return int(self.streamer_record(session_id)["pid"])

    def streamer_metric(self, session_id: str, name: str, **labels: str) -> float:
        """The sum of a streamer's Prometheus samples matching `labels` (0 when absent),
        scraped from its metrics port (the main port does not serve `/metrics`)."""
        port = self.streamer_record(session_id)["metrics_port"]
        return scrape(f"http://127.0.0.1:{port}", name, **labels)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_orchestrator(
    tmp: Path, pool: int = 1, max_sessions: int = 4, env: dict[str, str] | None = None
) -> Orchestrator:
    port = free_port()
    state_dir = tmp / "state"
    log_path = tmp / "orchestrator.log"
    env = {
        **os.environ,
        "IXS_ORCH_JWT_SECRET": SECRET,
        "IXS_ORCH_DEFAULT_WIDTH": str(STREAM["width"]),
        "IXS_ORCH_DEFAULT_HEIGHT": str(STREAM["height"]),
        "IXS_ORCH_DEFAULT_FPS": str(STREAM["fps"]),
        "IXS_ORCH_LOG_JSON": "true",
        **(env or {}),
    }
    cmd = [
        sys.executable, "-m", "ixstream", "up", "--port", str(port),
        "--state-dir", str(state_dir), "--pool", str(pool), "--max-sessions", str(max_sessions),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    orchestrator = Orchestrator(proc, f"http://127.0.0.1:{port}", state_dir, log_path)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"ixstream up exited {proc.returncode}:\n{orchestrator.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            ready = httpx.get(f"{orchestrator.base_url}/readyz", timeout=2)
            return ready.status_code == 200 and ready.json().get("warm_streamers", 0) >= min(
                pool, 1
            )
        return False

    try:
        wait_until(ready, START_TIMEOUT_S, "the orchestrator ready", interval_s=0.1)
    except AssertionError as never:
        stop(proc)
        raise RuntimeError(f"{never}:\n{orchestrator.log_tail()}") from never
    return orchestrator


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@pytest.fixture(scope="session")
def orchestrator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orchestrator]:
    instance = start_orchestrator(tmp_path_factory.mktemp("orchestrator"))
    yield instance
    stop(instance.proc)


@pytest.fixture
def orchestrator(orchestrator_process: Orchestrator) -> Iterator[Orchestrator]:
    """The shared orchestrator, left with no running session after each test."""
    yield orchestrator_process
    if orchestrator_process.proc.poll() is not None:
        return
    with orchestrator_process.api() as client:
        for session in client.get("/v1/sessions").json()["items"]:
            if session["state"] not in {"ending", "ended", "failed"}:
                client.delete(f"/v1/sessions/{session['id']}")

        def all_over() -> bool:
            states = {s["state"] for s in client.get("/v1/sessions").json()["items"]}
            return not states & {"pending", "starting", "ready", "active", "ending"}

        with contextlib.suppress(AssertionError):  # the next test's own checks will say
            wait_until(all_over, 15, "every session over", interval_s=0.1)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium, launched the one way tests/browser.py does."""
    async with chromium() as instance:
        yield instance


async def new_page(browser: Browser, width: int = 1280, height: int = 720) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    page.on("pageerror", lambda error: print(f"[page error] {error}"))
    page.on(
        "console",
        lambda message: (
            print(f"[console.{message.type}] {message.text}")
            if message.type in {"error", "warning"} and "GL Driver Message" not in message.text
            else None
        ),
    )
    return page


async def serve_client_at(page: Page, origin: str) -> None:
    """Serves clients/web/ at `origin`/app/ from disk, with an empty page at
    `origin`/app/_blank.html for tests that import modules without the orchestrator."""

    async def handle(route: Route) -> None:
        path = route.request.url.split("/app/", 1)[1].split("?", 1)[0].split("#", 1)[0]
        if path == "_blank.html":  # a page with no script of its own, to import modules into
            await route.fulfill(
                status=200, body="<!doctype html><title>test</title>", content_type="text/html"
            )
            return
        file = (WEB_ROOT / (path or "index.html")).resolve()
        if WEB_ROOT not in file.parents or not file.is_file():
            await route.fulfill(status=404, body="not found")
            return
        types = {
            ".js": "text/javascript",
            ".html": "text/html",
            ".css": "text/css",
            ".svg": "image/svg+xml",
        }
        await route.fulfill(
            status=200,
            body=file.read_bytes(),
            content_type=types.get(file.suffix, "application/octet-stream"),
        )

    await page.route(f"{origin}/app/**", handle)


async def install_iwer(page: Page) -> None:
    """Meta's WebXR emulation runtime (iwer), as a Quest 3, before any page script runs."""
    if not IWER.exists():
        pytest.skip(f"{IWER} is missing: run `npm ci --prefix clients/web/test-support`")
    await page.add_init_script(path=str(IWER))
    await page.add_init_script(
        script="""
        (() => {
          const device = new IWER.XRDevice(IWER.metaQuest3, { stereoEnabled: true });
          device.installRuntime({ forceInstall: true });
          window.ixTestXRDevice = device;
        })();
        """
    )


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


REPORT = "window.ixClient && window.ixClient.stage ? window.ixClient.stage.report() : null"

#: Draws an element (a <video>) into a small canvas and returns its RGBA bytes.
GRAB = """(selector) => {
  const source = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = 96; canvas.height = 54;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
}"""


async def until(
    page: Page, expression: str, check: Any, timeout_s: float = 45, what: str = "condition"
) -> Any:
    """Evaluates `expression` until `check(value)` holds; fails with the last value."""
    values: list[Any] = []

    async def holds() -> bool:
        values.append(await page.evaluate(expression))
        return bool(check(values[-1]))

    await eventually(
        holds, timeout_s, lambda: f"{what} (last value: {values[-1]!r})", interval_s=0.1
    )
    return values[-1]


#: Frames to let pass after the last input before grabbing the picture (0.4 s at 30
#: fps): the input is rendered, shown, and the encoder's quality has settled.
SETTLE_FRAMES = 12


async def settled_grab(page: Page, selector: str = "#stage video") -> list[int]:
    """The picture, once the last input the page sent is on screen, a few frames on."""
    report = await until(page, REPORT, lambda r: bool(r and r["lastFrame"]), 20, "a frame")
    sent, shown = report["seq"], report["lastFrame"]["id"]
    await until(
        page,
        REPORT,
        lambda r: (
            r["lastFrame"]["id"] >= shown + SETTLE_FRAMES and (r["lastFrame"]["seq"] or 0) >= sent
        ),
        20,
        "the last input rendered, a few frames on",
    )
    frame: list[int] = await page.evaluate(GRAB, selector)
    return frame


async def playing(page: Page, frames: int = 60, timeout_s: float = 45) -> dict[str, Any]:
    """Waits until the stage has decoded `frames` frames; returns its report.

    On failure, the message says what the page showed instead (a problem card, a
    waiting notice), so a failure in CI can be told apart from a slow machine."""
    try:
        report: dict[str, Any] = await until(
            page,
            REPORT,
            lambda r: bool(r) and r["framesDecoded"] > frames,
            timeout_s,
            "video playing",
        )
    except AssertionError as exc:
        shown = await page.evaluate("document.body.innerText")
        raise AssertionError(f"{exc}; the page showed: {' '.join(shown.split())[:600]}") from None
    return report


def difference(a: list[int], b: list[int]) -> float:
    """Mean absolute difference of two RGBA grabs, over the colour channels (0–255)."""
    total = sum(abs(x - y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if i % 4 != 3)
    return total / (len(a) * 3 / 4)


async def start_session(
    page: Page, orchestrator: Orchestrator, subject: str, scenario: str | None = None
) -> dict[str, Any]:
    """Signs in as a trainee with the dev login URL, starts `scenario` (else the first
    one offered), and waits until the video plays. Returns the session as the API
    reports it."""
    await page.goto(f"{orchestrator.base_url}/#token={orchestrator.token('trainee', subject)}")
    if scenario is not None:
        await page.locator(f"input[name=scenario][value='{scenario}']").check()
    await page.get_by_role("button", name="Start session").click()
    await playing(page)
    session: dict[str, Any] = await page.evaluate("window.ixClient.session")
    return session
