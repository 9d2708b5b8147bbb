"""The local backend's pure parts: the child environment (the orchestrator's secrets
stay home), /proc identity checks, and parsing the streamer's status. (Its command
line is built by `streamer_command`, tested beside this.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from orchestrator.backends import procfs
from orchestrator.backends.base import parse_status
from orchestrator.backends.local import streamer_env
from orchestrator.backends.streamer_command import CORS_ENV, KEY_ENV
from tests.waiting import wait_until


def test_the_child_gets_its_key_but_none_of_the_orchestrators_settings() -> None:
    parent = {
        "PATH": "/bin",
        "IXS_ORCH_JWT_SECRET": "api-key",
        KEY_ENV: "someone-elses",
        CORS_ENV: '["http://someone-elses.test"]',
    }
    env = streamer_env(parent, "the-streamers-key")
    # No allowed origins from the orchestrator means none, whatever the parent had.
    assert env == {"PATH": "/bin", KEY_ENV: "the-streamers-key", CORS_ENV: "[]"}


def test_a_process_is_recognised_by_its_pid_and_start_time() -> None:
    ticks = procfs.start_ticks(os.getpid())
    assert ticks is not None
    assert procfs.is_running(os.getpid(), ticks)
    assert not procfs.is_running(os.getpid(), ticks + 1)  # a reused PID is someone else


def test_a_zombie_does_not_count_as_running() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        while (fields := procfs.stat_fields(child.pid)) and fields[0] != "Z":
            pass
        assert not procfs.is_running(child.pid, None)
    finally:
        child.wait()
    assert procfs.stat_fields(child.pid) is None


def test_a_process_is_found_by_a_unique_argument() -> None:
    marker = "/tmp/ixs-test-marker-for-find-pid"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        # Right after fork the child still shows our command line; give exec a moment.
        wait_until(lambda: procfs.find_pid_with_argument(marker) == child.pid, 5, "the child found")
    finally:
        child.kill()
        child.wait()
    assert procfs.find_pid_with_argument(marker) is None


def test_the_status_parser_reads_the_contracts_fields() -> None:
    status = parse_status({
        "session_id": None, "ready": True, "viewers": 2, "trainee_connected": True,
        "frames_sent": 120, "first_frame_sent_at": 1700000000.5, "last_viewer_left_at": None,
        "started_at": 1699999990,
    })  # fmt: skip
    assert status.viewers == 2
    assert status.first_frame_sent_at == 1700000000.5
    assert status.started_at == 1699999990.0
    assert status.scenario_outcome is None  # no `scenario`: a streamer without one


def test_the_status_parser_reads_a_finished_scenarios_outcome() -> None:
    base = {"viewers": 1, "frames_sent": 3}
    running = {"id": "gas-leak-warehouse", "started": True, "paused": False, "outcome": None}
    assert parse_status({**base, "scenario": running}).scenario_outcome is None
    over = {**running, "outcome": "partial"}
    assert parse_status({**base, "scenario": over}).scenario_outcome == "partial"
    assert parse_status({**base, "scenario": "garbled"}).scenario_outcome is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "not a JSON object"),
        ({"viewers": -1}, "viewers"),
        ({"viewers": True}, "viewers"),
        ({"viewers": 0, "first_frame_sent_at": "soon"}, "number"),
    ],
)
def test_the_status_parser_names_the_broken_field(payload: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_status(payload)
