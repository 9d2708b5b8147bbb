"""ScenarioHost: the scenario runtime between the pipeline thread and the event loop.

Real runtime, real warehouse bounds; only the clocks are the test's, so scenario time
is exact.
"""

from __future__ import annotations

import threading

from ixstream.protocol import ScenarioNotice
from streamer.scenario import ScenarioRuntime
from streamer.scenario_host import ScenarioHost
from tests.streamer.scenario.support import head, sample, scene_bounds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gas_leak_host() -> tuple[ScenarioHost, Clock, list[ScenarioNotice]]:
    scenario = sample("gas-leak-warehouse")
    runtime = ScenarioRuntime(scenario, scene_bounds("warehouse.glb"))
    clock, told = Clock(), []
    host = ScenarioHost(scenario, runtime, told.append, clock=clock, wall=lambda: 1.8e9)
    return host, clock, told


def test_nothing_runs_or_is_logged_before_the_trainee_arrives() -> None:
    host, _, told = gas_leak_host()
    state = host.frame(head(0, 2))
    assert state.fog_density == 0.0
    assert host.entries_after(-1) == ([], -1)
    assert not host.started
    assert host.start() is True
    assert host.start() is False  # a reconnecting trainee does not restart the run
    entries, last = host.entries_after(-1)
    assert last == 0
    assert entries[0] == {
        "seq": 0,
        "at": 1.8e9,
        "t": 0.0,
        "kind": "scenario_started",
        "scenario": "gas-leak-warehouse",
        "title": "Gas leak in a warehouse: evacuate",
    }
    assert [(n.caption, n.paused, n.outcome) for n in told] == [(None, False, None)]


def test_the_timeline_is_numbered_and_pulled_in_pages() -> None:
    host, clock, _ = gas_leak_host()
    host.start()
    for _ in range(60):  # 12 s at 5 frames a second: poses at 5 Hz
        clock.now += 0.2
        host.frame(head(0, 2))
    entries, last = host.entries_after(-1)
    assert [e["seq"] for e in entries] == list(range(last + 1))
    assert sum(e["kind"] == "pose" for e in entries) == 60
    page, _ = host.entries_after(10, limit=5)
    assert [e["seq"] for e in page] == [11, 12, 13, 14, 15]
    assert host.entries_after(last) == ([], last)
    assert host.status() == {
        "id": "gas-leak-warehouse",
        "started": True,
        "paused": False,
        "outcome": None,
        "entries": last + 1,
    }


def test_the_trainee_is_told_only_when_what_they_see_changes() -> None:
    host, clock, told = gas_leak_host()
    host.start()
    for _ in range(25 * 10):  # 25 s at 10 frames a second: the leak starts at 20 s
        clock.now += 0.1
        host.frame(head(0, 2))
    captions = [n.caption for n in told]
    assert captions == [None, "You hear a loud hiss from the shelves and smell gas."]
    clock.now += 6.0  # the caption shows for 6 s
    host.frame(head(0, 2))
    assert told[-1].caption is None
    host.pause("ida")
    assert told[-1].paused is True
    before = len(told)
    for _ in range(10):
        clock.now += 0.1
        host.frame(head(0, 2))
    assert len(told) == before  # nothing changed while paused: nothing said
    host.resume("ida")
    host.end("failure", "Did not leave.", "ida")
    assert (told[-1].outcome, told[-1].message) == ("failure", "Did not leave.")
    assert host.notice() == told[-1]


def test_frames_and_commands_from_two_threads_keep_one_ordered_timeline() -> None:
    host, clock, _ = gas_leak_host()
    host.start()
    done = threading.Event()

    def pipeline() -> None:
        while not done.is_set():
            clock.now += 0.01
            host.frame(head(0, 2))

    thread = threading.Thread(target=pipeline)
    thread.start()
    try:
        for _ in range(50):
            host.pause("ida")
            host.resume("ida")
            host.act("use", "alarm-button")
    finally:
        done.set()
        thread.join()
    entries, last = host.entries_after(-1)
    assert [e["seq"] for e in entries] == list(range(last + 1))
    times = [e["t"] for e in entries]
    assert times == sorted(times)
    assert sum(e["kind"] == "paused" for e in entries) == 50


def test_every_snapshot_names_the_last_entry_it_includes() -> None:
    """`seq` orders snapshots that arrive out of order: the console keeps the newer."""
    host, clock, _ = gas_leak_host()
    assert host.snapshot()["seq"] == -1  # nothing has happened yet
    host.start()
    clock.now += 0.2
    host.frame(head(0, 2))
    before = host.snapshot()
    assert before["seq"] == host.entries_after(-1)[1]
    paused = host.pause("ida")
    entries, last = host.entries_after(before["seq"])  # type: ignore[arg-type]
    assert (paused["seq"], entries[-1]["kind"]) == (last, "paused")
    assert paused["seq"] > before["seq"]  # type: ignore[operator]
    ended = host.end("partial", "Go over it.", "ida")
    assert ended["seq"] > paused["seq"]  # type: ignore[operator]
    assert host.snapshot()["seq"] == ended["seq"]  # a reading changes nothing
