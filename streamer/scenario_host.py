"""Hosting a scenario run inside the streamer: one lock, the timeline, the notices.

`streamer.scenario.ScenarioRuntime` is pure: it knows triggers and effects but no
threads, clocks or viewers. The host puts it between the two threads that touch it:
the pipeline thread steps it every frame with the trainee's head pose (and takes the
scene state to render), the event loop feeds it the trainee's actions and the
instructor's commands. Everything it returns becomes the session's timeline, numbered
and time-stamped here, which the orchestrator pulls as the after-action log. Whenever
what the trainee should be told changes (caption, pause, outcome) the host calls
`on_notice`, from whichever thread made the change; the service hops to the loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from ixstream.pose import Pose
from ixstream.protocol import ScenarioNotice
from ixstream.scenario import Scenario
from streamer.render.source import SceneState
from streamer.scenario.runtime import ScenarioRuntime

Entry = dict[str, Any]
Action = Literal["use", "grab", "touch"]
#: One pull returns at most this many entries; the orchestrator pulls again for more.
MAX_PULL = 5000


class ScenarioHost:
    """Thread-safe owner of one scenario run and its timeline."""

    def __init__(
        self,
        scenario: Scenario,
        runtime: ScenarioRuntime,
        on_notice: Callable[[ScenarioNotice], None],
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.scenario = scenario
        self._runtime = runtime
        self._on_notice = on_notice
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._head = Pose()
        self._told: tuple[str | None, bool, str | None] | None = None

    # -- the pipeline thread ----------------------------------------------------

    def frame(self, head: Pose) -> SceneState:
        """Steps the run to now with this frame's head pose; the state to render."""
        with self._lock:
            now = self._clock()
            self._head = head
            if self._runtime.started:
                self._record(self._runtime.step(now, head))
            state = self._runtime.scene_state(now)
        self._tell()
        return state

    # -- the event loop ---------------------------------------------------------

    def start(self) -> bool:
        """Starts the run (the trainee has arrived); False if it had started already."""
        with self._lock:
            if self._runtime.started:
                return False
            self._record(self._runtime.start(self._clock()))
        self._tell()
        return True

    @property
    def started(self) -> bool:
        return self._runtime.started

    def act(self, action: Action, object_id: str | None) -> None:
        """The trainee acts, on a named object or on what they look at (last frame's pose).

        Raises the runtime's errors (not running): the caller counts and drops them.
        """
        with self._lock:
            self._record(self._runtime.act(self._clock(), self._head, action, object_id))
        self._tell()

    def instructor_event(self, event_id: str, by: str) -> dict[str, object]:
        return self._command(lambda now: self._runtime.instructor_event(now, event_id, by))

    def pause(self, by: str) -> dict[str, object]:
        return self._command(lambda now: self._runtime.pause(now, by))

    def resume(self, by: str) -> dict[str, object]:
        return self._command(lambda now: self._runtime.resume(now, by))

    def end(self, outcome: str, message: str | None, by: str) -> dict[str, object]:
        return self._command(lambda now: self._runtime.end(now, outcome, message, by))

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return self._snapshot_locked(self._clock())

    def status(self) -> dict[str, object]:
        """The short form `/v1/status` carries for the orchestrator's poll."""
        with self._lock:
            return {
                "id": self.scenario.id,
                "started": self._runtime.started,
                "paused": self._runtime.paused,
                "outcome": self._runtime.outcome,
                "entries": len(self._entries),
            }

    def entries_after(self, after: int, limit: int = MAX_PULL) -> tuple[list[Entry], int]:
        """Timeline entries with `seq` > `after` (at most `limit`), and the last seq held.

        Entries are never removed, so their seq is their index: a pull is a slice.
        """
        with self._lock:
            start = max(after + 1, 0)
            return self._entries[start : start + limit], len(self._entries) - 1

    def notice(self) -> ScenarioNotice:
        """What the trainee should be told now (sent to each viewer after `hello`)."""
        with self._lock:
            return self._notice_locked()

    # -- inside ---------------------------------------------------------------------

    def _command(self, run: Callable[[float], list[Entry]]) -> dict[str, object]:
        with self._lock:
            now = self._clock()
            self._record(run(now))
            snapshot = self._snapshot_locked(now)
        self._tell()
        return snapshot

    def _snapshot_locked(self, now: float) -> dict[str, object]:
        """The runtime's snapshot and `seq`, the last timeline entry it includes.

        Every change of the run is an entry, so a reader that got two snapshots out of
        order (two answers on two connections) keeps the one with the higher `seq`.
        """
        return {**self._runtime.snapshot(now), "seq": len(self._entries) - 1}

    def _record(self, entries: list[Entry]) -> None:
        at = round(self._wall(), 3)
        for entry in entries:
            self._entries.append({"seq": len(self._entries), "at": at, **entry})

    def _notice_locked(self) -> ScenarioNotice:
        snapshot = self._runtime.snapshot(self._clock())
        return ScenarioNotice(
            scenario=self.scenario.id,
            t=float(snapshot["t"]),  # type: ignore[arg-type]
            caption=self._runtime.caption(self._clock()),
            paused=self._runtime.paused,
            outcome=self._runtime.outcome,  # type: ignore[arg-type]
            message=snapshot.get("message"),  # type: ignore[arg-type]
        )

    def _tell(self) -> None:
        """Calls `on_notice` when what the trainee sees of the run has changed.

        Runs every frame, so it compares three fields and builds a notice only on change.
        """
        with self._lock:
            now = self._clock()
            key = (self._runtime.caption(now), self._runtime.paused, self._runtime.outcome)
            if key == self._told:
                return
            self._told = key
            notice = self._notice_locked()
        self._on_notice(notice)
