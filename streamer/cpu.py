"""CPU time by stage: what one session costs, and where it goes (issue 12).

Wall time per stage (the `*_seconds` histograms) says how long a frame waits; CPU
time says what a session costs, and the two differ: llvmpipe rasterises on
worker threads while the pipeline thread waits in glFinish, x264 encodes slices
on threads of its own, and the event loop packetises, encrypts and sends on a
third. So each stage is billed the CPU of every thread that works for it:

- `render`, `readback`, `convert`, `encode`: the pipeline thread's own CPU time
  (`CLOCK_THREAD_CPUTIME_ID`) between stage boundaries; `render` also gets
  llvmpipe's worker threads (named `llvmpipe-N`), `encode` the encoder's worker
  threads (x264 slice threads, libvpx threads), which carry the pipeline thread's
  name because Linux copies a thread's `comm` to the threads it creates (proc(5));
- `pipeline`: the rest of the pipeline thread (frame clock, input, scenario);
- `send` (RTP packetisation, SRTP, the UDP send) and `data_channels` (messages in,
  the per-frame `frames` message out): the event-loop thread between marks;
- `event_loop`: the rest of that thread (RTCP, SCTP and DTLS records, ICE,
  HTTP, asyncio itself);
- `other_threads`: every other live thread; `unattributed`: process CPU
  (getrusage) not found on any thread seen, e.g. threads that have ended.

The stages therefore sum to the process's CPU time. Another thread's CPU clock
is read with the per-thread clock id Linux derives from its TID
(`MAKE_THREAD_CPUCLOCK`, include/linux/posix-timers.h), so no thread needs to
cooperate; elsewhere those threads are simply not split out.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The pipeline thread's OS name; encoder worker threads inherit it (at most 15 bytes).
PIPELINE_THREAD_NAME = "ixs-pipeline"
LLVMPIPE_PREFIX = "llvmpipe"

#: Stages measured by marks on the pipeline and loop threads.
MARKED = ("render", "readback", "convert", "encode", "send", "data_channels")
STAGES = (
    "render",
    "readback",
    "convert",
    "encode",
    "pipeline",
    "send",
    "data_channels",
    "event_loop",
    "other_threads",
    "unattributed",
)
_PIPELINE_MARKED = ("render", "readback", "convert", "encode")
_LOOP_MARKED = ("send", "data_channels")
_PR_SET_NAME = 15  # prctl(2)
_TASKS = Path("/proc/self/task")


def name_os_thread(name: str) -> None:
    """Names the calling thread for the OS (prctl PR_SET_NAME); best effort, Linux only."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        return


def thread_cpu_s(tid: int) -> float | None:
    """CPU seconds of thread `tid` of this process; None when it is gone (or not Linux)."""
    clock_id = ((~tid) << 3) | 6  # MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)
    try:
        return time.clock_gettime(clock_id)
    except OSError:
        return None


def process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _comm(tid: int) -> str:
    try:
        return (_TASKS / str(tid) / "comm").read_text().strip()
    except OSError:
        return ""


def _live_threads() -> list[int]:
    try:
        return [int(name) for name in os.listdir(_TASKS)]
    except OSError:
        return []


class StageCpu:
    """Accumulates marked stage CPU and reads the rest from the threads when asked.

    `add` is called only by the thread that owns the stage (the pipeline thread
    for its stages, the event loop for `send` and `data_channels`), so no lock
    is needed. `snapshot` may run on any thread; its figures never go down
    (Prometheus counters), so a stage in progress is billed when it ends.
    """

    def __init__(self) -> None:
        self._marked = dict.fromkeys(MARKED, 0.0)
        self.pipeline_tid: int | None = None
        self.loop_tid: int | None = None
        self._seen: dict[int, tuple[str, float]] = {}  # tid -> (role, last CPU seconds)
        self._retired: dict[str, float] = {}  # role -> CPU of threads that ended
        self._reported = dict.fromkeys(STAGES, 0.0)
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float) -> None:
        self._marked[stage] += seconds

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Bills the calling thread's CPU time inside the block to `stage`."""
        started = time.thread_time()
        try:
            yield
        finally:
            self._marked[stage] += time.thread_time() - started

    def register_pipeline_thread(self) -> None:
        """Called on the pipeline thread: names it, so its encoder threads are known too."""
        name_os_thread(PIPELINE_THREAD_NAME)
        self.pipeline_tid = threading.get_native_id()

    def register_loop_thread(self) -> None:
        self.loop_tid = threading.get_native_id()

    def snapshot(self) -> dict[str, float]:
        """CPU seconds per stage since the process started; they sum to the process's CPU."""
        with self._lock:
            roles = self._role_totals()
            marked = dict(self._marked)
            process = process_cpu_s()
            stages = {
                "render": marked["render"] + roles.get("llvmpipe", 0.0),
                "readback": marked["readback"],
                "convert": marked["convert"],
                "encode": marked["encode"] + roles.get("encoder", 0.0),
                "pipeline": roles.get("pipeline", 0.0) - sum(marked[s] for s in _PIPELINE_MARKED),
                "send": marked["send"],
                "data_channels": marked["data_channels"],
                "event_loop": roles.get("loop", 0.0) - sum(marked[s] for s in _LOOP_MARKED),
                "other_threads": roles.get("other", 0.0),
            }
            stages["unattributed"] = process - sum(roles.values())
            for stage, value in stages.items():
                self._reported[stage] = max(self._reported[stage], value)
            return dict(self._reported)

    def _role(self, tid: int) -> str:
        """A helper thread's role, from its OS name (read once per thread)."""
        comm = _comm(tid)
        if comm.startswith(LLVMPIPE_PREFIX):
            return "llvmpipe"
        if comm == PIPELINE_THREAD_NAME:
            return "encoder"
        return "other"

    def _role_totals(self) -> dict[str, float]:
        """CPU per role over live threads, plus what ended threads had when last seen."""
        live: dict[int, tuple[str, float]] = {}
        for tid in _live_threads():
            cpu = thread_cpu_s(tid)
            if cpu is None:
                continue
            if tid in (self.pipeline_tid, self.loop_tid):
                role = "pipeline" if tid == self.pipeline_tid else "loop"
            else:
                known = self._seen.get(tid)
                role = known[0] if known else self._role(tid)
            live[tid] = (role, cpu)
        for tid, (role, cpu) in self._seen.items():
            if tid not in live:
                self._retired[role] = self._retired.get(role, 0.0) + cpu
        self._seen = live
        totals = dict(self._retired)
        for role, cpu in live.values():
            totals[role] = totals.get(role, 0.0) + cpu
        return totals
