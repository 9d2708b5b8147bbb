"""The README's walk-through, done literally by Chromium (issue 11).

`ixstream up` starts as the README's `make run` starts it (the virtualenv's console
script, dev mode, so it generates its own key and prints one sign-in link per role),
on a free port with its own state directory. The test reads the links it printed and,
for each scenario the library ships (`scenarios/*.yaml`, read through the library),
does what the README's steps say: the trainee opens their link, starts the scenario
from its card and sees the picture move (frames decoded, pixels changed by walking);
the instructor, in a second browser context, opens their link, finds the session under
"Trainees' sessions", presses **Instruct**, fires every instructor event the scenario
declares and sees each one on the console's timeline and, where the scenario shows it
to the trainee (a caption), on the trainee's page; pauses (the trainee's page says so
and the scenario clock stands still), resumes, ends with an outcome the trainee sees,
and opens the after-action review. Stopping `ixstream up` as a person does (Ctrl-C)
leaves no process behind: neither it nor any streamer it spawned.

The pages are used through their DOM (ids, roles, text), never through how they learn
of changes, so the test holds whether they poll or are pushed to. With
`IXS_SCREENSHOT_DIR` set, it saves the login choice, the console with a fired event
and the review page there as PNG; otherwise it writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from ixstream.scenario.model import Caption, InstructorSignal, Scenario, TimeElapsed
from orchestrator.scenarios.library import ScenarioLibrary
from tests.waiting import eventually, wait_until
from tests.web.conftest import GRAB, ROOT, difference, free_port

README = ROOT / "README.md"
CONSOLE_SCRIPT = ROOT / ".venv" / "bin" / "ixstream"
LIBRARY = ScenarioLibrary(ROOT / "scenarios")
#: What `ixstream up` prints in dev mode, one line per role (orchestrator/cli.py).
SIGN_IN_LINE = re.compile(r"^\s+(trainee|instructor|operator)\s+(http://\S+/#token=\S+)\s*$", re.M)
#: The streamers render 640×360 at 30 fps: the README's command, sized for a 2-core CI
#: machine that also runs two Chromium contexts decoding the stream.
STREAM_ENV = {
    "IXS_ORCH_DEFAULT_WIDTH": "640",
    "IXS_ORCH_DEFAULT_HEIGHT": "360",
    "IXS_ORCH_DEFAULT_FPS": "30",
}
START_TIMEOUT_S = 90.0
#: How long the console's clock is watched while paused: longer than any refresh of
#: the page (a 1 s poll today), so a running clock would have moved on screen.
STILL_WATCH_S = 2.5
#: A picture that moved: mean absolute change of the colour channels, of 255 (a still
#: picture's encoder noise is well under 1).
MOVED = 6.0
#: What the instructor ends every run with, and what the trainee and review then show.
OUTCOME, OUTCOME_LABEL = "partial", "Partial"
#: The controls the README's walk-through names and this test presses, in its order.
README_CONTROLS = (
    "trainee",
    "Start session",
    "instructor",
    "Trainees' sessions",
    "Instruct",
    "Pause",
    "Resume",
    "End session",
    "Open the after-action review",
    "Review",
    "operator",
)

VIDEO_FRAMES = """(selector) => {
  const video = document.querySelector(selector);
  return video ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
}"""
TRAINEE_VIDEO = "#stage video"
CONSOLE_NOW = """() => [
  document.querySelector("#live-state").textContent,
  document.querySelector("#live-time").textContent,
]"""


@dataclass
class Up:
    """`ixstream up` as a person runs it, and every process it was seen to spawn."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    state_dir: Path
    links: dict[str, str] = field(default_factory=dict)
    spawned: set[int] = field(default_factory=set)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def note_streamers(self) -> None:
        """Records the streamer processes running now: children of `ixstream up`, and
        those the local backend's records name (`<state dir>/streamers/*.json`)."""
        self.spawned |= children_of(self.proc.pid)
        for path in (self.state_dir / "streamers").glob("*.json"):
            with contextlib.suppress(OSError, ValueError, TypeError):
                pid = json.loads(path.read_text()).get("pid")
                if pid:
                    self.spawned.add(int(pid))


def children_of(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (Linux /proc, field 4 of `stat`)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie awaiting its parent's wait does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def start_up(tmp: Path) -> Up:
    """`.venv/bin/ixstream up --port <free> --state-dir <tmp>`, in dev mode with no key
    given (so it generates one, as on a fresh machine), until it has printed its links
    and is ready with a warm streamer."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IXS_")}
    env.update(STREAM_ENV)
    log_path = tmp / "ixstream-up.log"
    state_dir = tmp / "state"
    cmd = [str(CONSOLE_SCRIPT), "up", "--port", str(port), "--state-dir", str(state_dir)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    up = Up(proc, log_path, state_dir)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"ixstream up exited {proc.returncode}:\n{up.log_tail()}")
        up.links = dict(SIGN_IN_LINE.findall(log_path.read_text(errors="replace")))
        return len(up.links) == 3 and warm(up.links["operator"])

    try:
        wait_until(ready, START_TIMEOUT_S, "ixstream up printing its links, ready", interval_s=0.1)
    except BaseException:
        stop_up(up)
        raise
    up.note_streamers()
    return up


def warm(link: str) -> bool:
    """Ready, with a warm streamer to claim (`/readyz`, at the links' address)."""
    base = link.split("/#", 1)[0]
    with contextlib.suppress(httpx.HTTPError):
        ready = httpx.get(f"{base}/readyz", timeout=2)
        return ready.status_code == 200 and ready.json().get("warm_streamers", 0) >= 1
    return False


def stop_up(up: Up) -> list[int]:
    """Ctrl-C, as a person stops `make run`; returns the processes left running (and
    ends them, so a failing test leaks nothing either)."""
    up.note_streamers()
    if up.proc.poll() is None:
        up.proc.send_signal(signal.SIGINT)
        try:
            up.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.proc.kill()
            up.proc.wait()
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not any(alive(p) for p in up.spawned), 15, "streamers gone")
    leaked = sorted(p for p in up.spawned if alive(p))
    for pid in leaked:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not any(alive(p) for p in leaked), 10, "leaked streamers ended")
    return leaked


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    instance = start_up(tmp_path_factory.mktemp("walkthrough"))
    yield instance
    leaked = stop_up(instance)
    assert instance.proc.returncode is not None, "ixstream up still runs after Ctrl-C"
    assert not leaked, f"streamers left running after ixstream up stopped: {leaked}"
    assert instance.spawned, "no streamer was ever seen: the leak check checked nothing"


def shipped_scenarios() -> list[Scenario]:
    """The library's scenarios that ship in the checkout (`scenarios/*.yaml`)."""
    return LIBRARY.all()


def screenshot_dir() -> Path | None:
    where = os.environ.get("IXS_SCREENSHOT_DIR")
    return Path(where) if where else None


async def keep_screenshot(page: Page, name: str) -> None:
    """Saves `name`.png in IXS_SCREENSHOT_DIR when that is set (for the issue's note)."""
    where = screenshot_dir()
    if where is None:
        return
    where.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(where / f"{name}.png"), full_page=True)


async def new_context(browser: Browser) -> BrowserContext:
    """A browser context of its own: another person, another sign-in."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    context.on("page", lambda p: p.on("pageerror", lambda e: print(f"[page error] {e}")))
    return context


async def frames(page: Page, selector: str = TRAINEE_VIDEO) -> int:
    count: int = await page.evaluate(VIDEO_FRAMES, selector)
    return count


async def frames_pass(page: Page, n: int, what: str, timeout_s: float = 30) -> int:
    """Waits until `n` more frames of the page's stage video have been decoded."""
    start = await frames(page)
    await eventually(
        lambda: _more_than(page, start + n), timeout_s, f"{n} more frames ({what})", interval_s=0.05
    )
    return await frames(page)


async def _more_than(page: Page, count: int) -> bool:
    return await frames(page) >= count


def event_triggers(scenario: Scenario, event_id: str) -> list[str]:
    return [
        t.id
        for t in scenario.triggers
        if isinstance(t.when, InstructorSignal) and t.when.event == event_id
    ]


def event_captions(scenario: Scenario, event_id: str) -> list[str]:
    """What an instructor event shows the trainee in words: its triggers' captions."""
    return [
        effect.text
        for t in scenario.triggers
        if isinstance(t.when, InstructorSignal) and t.when.event == event_id
        for effect in t.then
        if isinstance(effect, Caption)
    ]


def timed_triggers(scenario: Scenario) -> list[str]:
    return [t.id for t in scenario.triggers if isinstance(t.when, TimeElapsed)]


def duration_words(minutes: float) -> str:
    return f"About {minutes:g} min"


# --- the README's steps -----------------------------------------------------------


async def trainee_starts(browser: Browser, up: Up, scenario: Scenario) -> Page:
    """Step 1: open the trainee link, pick the scenario's card, press Start session."""
    trainee = await (await new_context(browser)).new_page()
    await trainee.goto(up.links["trainee"])
    card = trainee.locator("#scenarios label.choice").filter(
        has=trainee.locator(f"input[value='{scenario.id}']")
    )
    await expect(card).to_contain_text(scenario.title)
    await expect(card).to_contain_text(duration_words(scenario.expected_duration_min))
    await expect(trainee.locator("#who-role")).to_have_text("trainee")
    await keep_screenshot(trainee, f"{scenario.id}-1-login-choice")
    await card.click()
    await expect(card.locator("input")).to_be_checked()
    await trainee.get_by_role("button", name="Start session").click()
    await expect(trainee.locator(TRAINEE_VIDEO)).to_be_visible(timeout=60_000)
    return trainee


async def pictures_move(trainee: Page) -> None:
    """Step 1 goes on: the scene streams (frames decoded) and walking moves it (pixels
    change between two frames: turning with the arrow keys, as the README says). A key
    pressed before the page's input channel opens goes nowhere, so, like a person, the
    test presses again until the view turns."""
    await frames_pass(trainee, 30, "the stream playing", timeout_s=60)
    before = await trainee.evaluate(GRAB, TRAINEE_VIDEO)
    await trainee.locator(TRAINEE_VIDEO).focus()
    changes: list[float] = []

    async def turned() -> bool:
        await trainee.keyboard.down("ArrowLeft")
        await frames_pass(trainee, 10, "turning left")
        await trainee.keyboard.up("ArrowLeft")
        await frames_pass(trainee, 15, "the turn shown, the encoder settled")
        changes.append(difference(before, await trainee.evaluate(GRAB, TRAINEE_VIDEO)))
        return changes[-1] > MOVED

    await eventually(
        turned, 45, lambda: f"the view turning (mean pixel changes: {changes})", interval_s=0
    )


async def instructor_opens_console(browser: Browser, up: Up, scenario: Scenario) -> Page:
    """Step 2: the instructor link in another window; the session is listed under
    "Trainees' sessions"; Instruct opens the console (a new tab), whose live view plays
    the trainee's picture."""
    home = await (await new_context(browser)).new_page()
    await home.goto(up.links["instructor"])
    listed = home.locator("#trainee-sessions")
    await expect(listed.get_by_role("heading", name="Trainees' sessions")).to_be_visible()
    row = (
        home.locator("#trainee-session-list li")
        .filter(has_text="dev-trainee")
        .filter(has=home.get_by_role("link", name="Instruct"))
    )
    await expect(row).to_be_visible(timeout=20_000)
    async with home.context.expect_page() as opened:
        await row.get_by_role("link", name="Instruct").click()
    console = await opened.value
    await expect(console.get_by_role("heading", name=scenario.title)).to_be_visible()
    await expect(console.locator("#trainee")).to_contain_text("dev-trainee")
    await expect(console.locator("#live-state")).to_have_text("Running", timeout=30_000)
    await frames_pass(console, 10, "the trainee's live view on the console", timeout_s=60)
    return console


async def fire_every_event(console: Page, trainee: Page, scenario: Scenario) -> None:
    """Every instructor event the scenario declares: each on the console's timeline of
    fired triggers and, where it shows the trainee a caption, on the trainee's page.
    Timed triggers fire first, so their own captions cannot hide an event's."""
    fired = console.locator("#live-fired")
    for trigger in timed_triggers(scenario):
        await expect(fired).to_contain_text(trigger, timeout=90_000)
    caption = trainee.locator("#stage [data-role=caption]")
    for n, event in enumerate(scenario.instructor_events):
        await console.get_by_role("button", name=event.label, exact=True).click()
        await expect(console.locator("#status")).to_contain_text(f"Sent “{event.label}”")
        for trigger in event_triggers(scenario, event.id):
            await expect(fired).to_contain_text(trigger)
        for text in event_captions(scenario, event.id):
            # Both at once: a caption may show for only a few seconds of scenario time.
            await asyncio.gather(
                expect(caption).to_have_text(text),
                expect(console.locator("#live-caption")).to_contain_text(text),
            )
        if n == 0:
            await console.evaluate("window.scrollTo(0, 0)")
            await keep_screenshot(console, f"{scenario.id}-2-console-event")


async def console_now(console: Page) -> tuple[str, float]:
    """The console's "Now" card: the scenario's state and clock (`mm:ss.s`), read at once."""
    state, clock = await console.evaluate(CONSOLE_NOW)
    minutes, seconds = clock.split(":")
    return state, int(minutes) * 60 + float(seconds)


async def pause_and_resume(console: Page, trainee: Page) -> None:
    """Pause: the trainee's page says so and the scenario clock stands still while
    the picture keeps coming; Resume: the banner goes and the clock runs again.
    Only readings that say "Paused" count: an answer the page asked for just before
    the pause may still land after it, and it shows the time just before."""
    await console.get_by_role("button", name="Pause", exact=True).click()
    banner = trainee.locator("#stage [data-role=paused]")
    await expect(banner).to_have_text("Paused by the instructor")
    await expect(banner).to_be_visible()
    await expect(console.locator("#live-state")).to_have_text("Paused")
    held: set[float] = set()
    watched_from = time.monotonic()

    async def watched_standing_still() -> bool:
        state, clock = await console_now(console)
        if state == "Paused":
            held.add(clock)
        assert len(held) <= 1, f"the scenario clock ran on while paused: {sorted(held)}"
        return time.monotonic() - watched_from >= STILL_WATCH_S

    await eventually(
        watched_standing_still, STILL_WATCH_S + 10, "the clock watched", interval_s=0.1
    )
    await frames_pass(trainee, 5, "the picture while paused")
    await console.get_by_role("button", name="Resume", exact=True).click()
    await expect(banner).to_be_hidden()
    assert held, "the console never read Paused while watched"
    stood = max(held)

    async def running_on() -> bool:
        state, clock = await console_now(console)
        return state == "Running" and clock > stood

    await eventually(running_on, 20, f"the clock running on from {stood} s", interval_s=0.1)


async def end_with_outcome(console: Page, trainee: Page, scenario: Scenario) -> str:
    """End session with an outcome and a message: the trainee's page shows the message,
    the console says how it ended."""
    message = f"Walk-through of {scenario.title}: go over the events with your instructor."
    await console.locator("#outcome").select_option(OUTCOME)
    await console.locator("#end-message").fill(message)
    await console.get_by_role("button", name="End session").click()
    await expect(trainee.locator("#ended-outcome")).to_have_text(message, timeout=30_000)
    await expect(trainee.locator("#ended-title")).to_be_visible()
    await expect(
        console.get_by_role("heading", name=f"The scenario ended: {OUTCOME_LABEL}.")
    ).to_be_visible(timeout=30_000)
    return message


async def review_shows_the_run(console: Page, scenario: Scenario, message: str) -> None:
    """Open the after-action review: the outcome, and every event on the timeline."""
    await console.get_by_role("link", name="Open the after-action review").click()
    await expect(console.locator("#s-outcome")).to_contain_text(OUTCOME_LABEL, timeout=30_000)
    timeline = console.locator("#timeline")
    for event in scenario.instructor_events:
        await expect(timeline).to_contain_text(f"fired {event.id}")
        for trigger in event_triggers(scenario, event.id):
            await expect(timeline).to_contain_text(trigger)
    await expect(timeline).to_contain_text(message)
    await expect(console.locator("#plot svg")).to_be_visible()
    await keep_screenshot(console, f"{scenario.id}-3-review")


async def review_listed(home: Page, session_id: str) -> None:
    """Later, the instructor's list offers the finished session's Review too."""
    await home.reload()
    row = home.locator(f"#trainee-session-list li[data-session='{session_id}']")
    review = row.get_by_role("link", name="Review")
    await expect(review).to_have_attribute("href", f"review.html?session={session_id}")
    await expect(row.get_by_role("link", name="Instruct")).to_have_count(0)


async def operator_console(browser: Browser, up: Up) -> None:
    """Step 4: the operator link reaches the operator console."""
    page = await (await new_context(browser)).new_page()
    await page.goto(up.links["operator"])
    await expect(page.locator("#who-role")).to_have_text("operator")
    await page.get_by_role("link", name="Operations console").click()
    await expect(page).to_have_url(re.compile(r"/operator\.html"))
    await expect(page.get_by_role("heading", name="Operations", exact=True)).to_be_visible()
    await expect(page.get_by_role("heading", name="Warm pool")).to_be_visible()
    await page.context.close()


# --- the tests (those that start processes and Chromium are marked so) ---------------


def test_the_readme_walkthrough_names_the_controls_this_test_uses() -> None:
    """The README and this test say the same steps: each control the test presses is
    named in the README's walk-through, in the same order."""
    text = README.read_text()
    walk = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    positions = [walk.find(f"**{name}**") for name in README_CONTROLS]
    missing = [n for n, at in zip(README_CONTROLS, positions, strict=True) if at < 0]
    assert not missing, f"the README's walk-through does not name {missing}"
    assert positions == sorted(positions), "the README names the controls in another order"


def test_every_shipped_scenario_is_in_the_library() -> None:
    """The walk-through runs what the library lists: a shipped file the library refused
    (invalid) would otherwise drop out of the walk-through without a word."""
    shipped = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert {s.id for s in shipped_scenarios()} == shipped


@pytest.mark.parametrize("scenario", shipped_scenarios(), ids=lambda s: s.id)
@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.timeout(240)
async def test_the_readme_walkthrough_runs_the_scenario(
    browser: Browser, up: Up, scenario: Scenario
) -> None:
    assert set(up.links) == {"trainee", "instructor", "operator"}, up.log_tail()
    trainee = await trainee_starts(browser, up, scenario)
    await pictures_move(trainee)
    up.note_streamers()
    console = await instructor_opens_console(browser, up, scenario)
    await fire_every_event(console, trainee, scenario)
    await pause_and_resume(console, trainee)
    message = await end_with_outcome(console, trainee, scenario)
    session_id = parse_qs(urlsplit(console.url).query)["session"][0]
    await review_shows_the_run(console, scenario, message)
    await review_listed(console.context.pages[0], session_id)
    up.note_streamers()
    for context in (trainee.context, console.context):
        await context.close()


@pytest.mark.e2e
@pytest.mark.browser
async def test_the_operator_link_reaches_the_operator_console(browser: Browser, up: Up) -> None:
    await operator_console(browser, up)
