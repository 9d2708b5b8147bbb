"""CPU accounting by stage (streamer/cpu.py): every thread's CPU lands in exactly one stage.

Covers marked stages, helper threads billed by their inherited OS name, threads
that ended keeping their CPU, and the stages summing to the process's CPU time.
Each check burns a known amount of thread CPU time, so none depends on speed.
"""

from __future__ import annotations

import threading
import time

import pytest

from streamer.cpu import STAGES, StageCpu, process_cpu_s

BURN_S = 0.05


def burn(seconds: float = BURN_S) -> None:
    """Spends `seconds` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def run_in_thread(target: object) -> None:
    thread = threading.Thread(target=target)  # type: ignore[arg-type]
    thread.start()
    thread.join()


def test_cpu_inside_a_marked_block_is_billed_to_its_stage() -> None:
    cpu = StageCpu()
    with cpu.timed("convert"):
        burn()
    assert cpu.snapshot()["convert"] >= BURN_S


def test_threads_started_by_the_pipeline_thread_are_billed_to_encode() -> None:
    cpu = StageCpu()

    def pipeline_with_live_worker() -> None:
        cpu.register_pipeline_thread()
        done = threading.Event()
        # Started here, as x264 starts its slice threads: it inherits the OS name.
        worker = threading.Thread(target=lambda: (burn(), done.wait(5)))
        worker.start()
        while worker.is_alive() and cpu.snapshot()["encode"] < BURN_S:
            time.sleep(0.005)
        done.set()
        worker.join()

    run_in_thread(pipeline_with_live_worker)
    assert cpu.snapshot()["encode"] >= BURN_S


def test_a_thread_that_ended_keeps_its_cpu() -> None:
    cpu = StageCpu()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (burn(), done.wait(5)))
    worker.start()
    while cpu.snapshot()["other_threads"] < BURN_S:
        time.sleep(0.005)
    done.set()
    worker.join()
    assert cpu.snapshot()["other_threads"] >= BURN_S


def test_the_loop_thread_is_split_into_send_data_channels_and_the_rest() -> None:
    cpu = StageCpu()
    cpu.register_loop_thread()
    with cpu.timed("send"):
        burn()
    burn()
    stages = cpu.snapshot()
    assert stages["send"] >= BURN_S
    assert stages["event_loop"] >= BURN_S
    assert stages["data_channels"] == 0.0


def test_the_stages_sum_to_the_process_cpu_time() -> None:
    cpu = StageCpu()
    cpu.register_loop_thread()
    burn()
    before = process_cpu_s()
    stages = cpu.snapshot()
    after = process_cpu_s()
    assert set(stages) == set(STAGES)
    assert before - 0.01 <= sum(stages.values()) <= after + 0.01
    assert all(value >= 0.0 for value in stages.values())


def test_figures_never_go_down() -> None:
    cpu = StageCpu()
    cpu.register_loop_thread()
    first = cpu.snapshot()
    burn()
    second = cpu.snapshot()
    assert all(second[stage] >= first[stage] for stage in STAGES)
    assert second["event_loop"] == pytest.approx(first["event_loop"] + BURN_S, abs=0.03)
