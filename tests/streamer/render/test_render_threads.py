"""llvmpipe's worker threads follow the session's share of the cores (issue 12).

A table for the rule, the operator's own LP_NUM_THREADS kept, and real streamer
processes whose llvmpipe workers (threads named `llvmpipe-N`) are counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from streamer.cores import cores_per_session
from streamer.render.egl import cap_software_render_threads, software_render_threads
from tests.conftest import StreamerProcess


@pytest.mark.parametrize(("share", "threads"), [(1, 0), (2, 2), (3, 3), (8, 8)])
def test_a_share_under_two_cores_renders_on_the_rendering_thread(share: int, threads: int) -> None:
    assert software_render_threads(share) == threads


def test_an_operators_own_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LP_NUM_THREADS", "3")
    cap_software_render_threads(1)
    assert os.environ["LP_NUM_THREADS"] == "3"


def test_without_one_the_share_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LP_NUM_THREADS", raising=False)
    cap_software_render_threads(1)
    assert os.environ["LP_NUM_THREADS"] == "0"


def llvmpipe_workers(pid: int) -> int:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return sum(1 for t in tasks if (t / "comm").read_text().startswith("llvmpipe"))


@pytest.mark.e2e
@pytest.mark.parametrize("sessions", [1, 4])
def test_a_streamer_starts_the_workers_its_share_allows(
    streamer_factory: Callable[..., StreamerProcess],
    monkeypatch: pytest.MonkeyPatch,
    sessions: int,
) -> None:
    monkeypatch.delenv("LP_NUM_THREADS", raising=False)
    streamer = streamer_factory(
        "--width", "320", "--height", "240", "--host-sessions", str(sessions)
    )
    expected = software_render_threads(cores_per_session(sessions))
    assert llvmpipe_workers(streamer.proc.pid) == expected
