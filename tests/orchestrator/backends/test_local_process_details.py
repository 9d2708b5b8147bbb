"""The local backend's pure parts: the streamer command line (no secret on it), the
child environment (the orchestrator's secrets stay home), /proc identity checks, and
parsing the streamer's status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.backends import procfs
from orchestrator.backends.base import StreamerProfile, parse_status
from orchestrator.backends.local import KEY_ENV, _log_tail, streamer_argv, streamer_env
from tests.waiting import wait_until

PROFILE = StreamerProfile("scene", "/scenes/a.glb", 2560, 1440, 72, "vp8", True, 9000)


def test_the_command_line_follows_the_streamer_contract_and_holds_no_key() -> None:
    argv = streamer_argv(
        ("python", "-m", "ixstream", "stream"), host="127.0.0.1", port_file=Path("/s/p.port"),
        profile=PROFILE, session_id="s-1", ice_hosts=("127.0.0.1",),
    )  # fmt: skip
    assert argv[:4] == ["python", "-m", "ixstream", "stream"]
    joined = " ".join(argv)
    for expected in ("--port 0", "--port-file /s/p.port", "--width 2560", "--height 1440",
                     "--fps 72", "--codec vp8", "--bitrate-kbps 9000", "--source scene",
                     "--scene /scenes/a.glb", "--stereo", "--session-id s-1",
                     "--ice-host 127.0.0.1"):  # fmt: skip
        assert expected in joined
    assert "secret" not in joined.lower()


def test_a_warm_streamer_has_no_session_id_on_its_command_line() -> None:
    argv = streamer_argv(
        ("x",), host="127.0.0.1", port_file=Path("p"), profile=PROFILE, session_id=None
    )
    assert "--session-id" not in argv


def test_the_child_gets_its_key_but_none_of_the_orchestrators_settings() -> None:
    parent = {"PATH": "/bin", "IXS_ORCH_JWT_SECRET": "api-key", KEY_ENV: "someone-elses"}
    env = streamer_env(parent, "the-streamers-key")
    assert env == {"PATH": "/bin", KEY_ENV: "the-streamers-key"}


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


def test_a_log_tail_for_a_failure_detail_redacts_anything_like_a_secret(tmp_path: Path) -> None:
    log = tmp_path / "st.log"
    log.write_text(
        "starting\n"
        "invalid settings: input_value={'jwt_secret': 'S3CR3T-abcdef', 'width': 322}\n"
        'env: {"token": "eyJhbGciOi"}\n'
    )
    tail = _log_tail(log)
    assert "S3CR3T" not in tail
    assert "eyJhbGciOi" not in tail
    assert "'width': 322" in tail
