"""Cost per session (issue 12): CPU by stage, against the raw floor and the stock peer.

All at 720p30 on the warehouse scene, in one run, so every ratio compares
figures from the same machine minutes apart:

- `floor`: render → I420 → libx264 → discard, no WebRTC (bench.floor, a child process);
- `session`: a streamer process with one headless viewer looking around; each
  stage's CPU per frame from the streamer's `ixstream_streamer_stage_cpu_seconds_total`
  (streamer/cpu.py: the stages sum to the process's CPU) and process CPU per
  stream-second, against the floor (target ≤ 1.3×) and the peer;
- `peer`: the stock aiortc send path (bench.stock_peer, a child process) to an
  aiortc receiver;
- `before`: the same session with the cuts a flag can undo undone (`BEFORE_ARGS`),
  so each stage's before/after comes from one run;
- `still`: the same streamer while its viewer holds still (target ≤ 0.1 core);
- `density`: `sessions` streamers with a viewer each at once: fps (target ≥ 29)
  and motion-to-photon p95 (target ≤ 40 ms) of each. Each viewer is a process
  of its own (`ixstream client`), decoding on the same cores: on a 2-core host
  they take a share the streamers would have on a real node, so this is the
  pessimistic figure. With `sessions` above one, the run starts at one session
  fewer too, so the result shows where the targets stop holding;
- `profile`: py-spy samples the streamer while it streams; speedscope JSON
  saved under bench/out/ (its path is in the result).

The cases run in turn (floor, session, before, peer), `rounds` times interleaved; each
figure is the median of the rounds. Windows are short (`seconds`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from prometheus_client.parser import text_string_to_metric_families

from ixclient.viewer import ViewerClient
from ixstream.ice import configure_host_addresses, rtc_configuration
from streamer.cores import available_cpus
from streamer.cpu import STAGES
from tests.conftest import StreamerProcess, start_streamer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SCENE = "warehouse.glb"
WIDTH, HEIGHT, FPS = 1280, 720, 30
TARGETS = {
    "cpu_vs_floor": 1.3,
    "still_cores": 0.1,
    "density_sessions": 4,
    "density_fps": 29.0,
    "density_motion_to_photon_p95_ms": 40.0,
}
WARMUP_S = 1.5
VIEWER_WARMUP_S = 3.0  # density: each viewer's steady state starts this long after its first frame
#: The streamer as it ran before the cuts of issue 12 that a flag can undo: the fixed
#: 8 Mbps ceiling every stream had (now from the pixel rate: 2.5 Mbps at 720p30).
BEFORE_ARGS = ["--bitrate-kbps", "8000"]
BEFORE_WHY = "the fixed 8 Mbps ceiling; now 0.09 bit per pixel per frame (ixstream/bitrate.py)"


def streamer_args() -> list[str]:
    size = ["--width", str(WIDTH), "--height", str(HEIGHT), "--fps", str(FPS)]
    return ["--scene", SCENE, *size]


# ------------------------------------------------------------------ floor and peer


def floor(seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.floor", "--seconds", str(seconds), "--scene", SCENE]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def peer(seconds: float) -> dict[str, Any]:
    return asyncio.run(_peer(seconds))


async def _peer(seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.stock_peer", "--seconds", str(seconds), "--scene", SCENE]
    child = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdin is not None
    assert child.stdout is not None
    configure_host_addresses(["127.0.0.1"])
    pc = RTCPeerConnection(rtc_configuration([]))
    received = [0]
    consumers: list[asyncio.Task[None]] = []

    @pc.on("track")
    def on_track(track: Any) -> None:
        async def consume() -> None:
            try:
                while True:
                    await track.recv()
                    received[0] += 1
            except MediaStreamError:
                return  # the peer closed

        consumers.append(asyncio.create_task(consume()))

    try:
        offer = json.loads(await asyncio.wait_for(child.stdout.readline(), 60))
        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        child.stdin.write((json.dumps({"sdp": pc.localDescription.sdp}) + "\n").encode())
        await child.stdin.drain()
        result: dict[str, Any] = json.loads(
            await asyncio.wait_for(child.stdout.readline(), seconds + 60)
        )
        result["frames_received"] = received[0]
        return result
    finally:
        await pc.close()
        for task in consumers:
            task.cancel()
        if child.returncode is None:
            child.kill()
        await child.wait()


# ------------------------------------------------------------------ the streamer


def scrape_all(metrics_url: str) -> dict[str, float]:
    """Every sample on /metrics, keyed `name` or `name{label=value}` (one label here)."""
    text = httpx.get(f"{metrics_url}/metrics", timeout=5).text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{label}}}" if label else sample.name] = sample.value
    return samples


def stage_key(stage: str) -> str:
    return f"ixstream_streamer_stage_cpu_seconds_total{{stage={stage}}}"


def child_cpu_s(pid: int) -> float:
    """A process's CPU seconds from /proc/<pid>/stat (utime + stime, proc(5)).

    Read from outside, so it also measures a streamer that exports no CPU metric.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def window(streamer: StreamerProcess, seconds: float) -> dict[str, Any]:
    """Process CPU, stage CPU and frames over `seconds` of streaming."""
    before = await asyncio.to_thread(scrape_all, streamer.metrics_url)
    cpu0, t0 = child_cpu_s(streamer.proc.pid), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = child_cpu_s(streamer.proc.pid) - cpu0, time.monotonic() - t0
    after = await asyncio.to_thread(scrape_all, streamer.metrics_url)

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    frames = delta("ixstream_streamer_frames_sent_total")
    stages = {stage: delta(stage_key(stage)) for stage in STAGES}
    process = delta("process_cpu_seconds_total")  # the streamer's own total, same scrapes
    return {
        "seconds": round(wall, 2),
        "frames": int(frames),
        "fps": round(frames / wall, 2),
        "renders": int(delta("ixstream_streamer_frames_rendered_total")),
        "cpu_s_per_stream_s": round(cpu / wall, 4),
        "cpu_ms_per_frame": round(cpu / max(1.0, frames) * 1e3, 3),
        "stage_cpu_ms_per_frame": {
            s: round(v / max(1.0, frames) * 1e3, 3) for s, v in stages.items()
        },
        "stage_cores": {s: round(v / wall, 4) for s, v in stages.items()},
        "stage_sum_vs_process": round(sum(stages.values()) / process, 3) if process else None,
    }


async def _session(
    seconds: float, profile_s: float, extra_args: list[str] | None = None, *, still: bool = True
) -> dict[str, Any]:
    args = [*streamer_args(), *(extra_args or [])]
    with tempfile.TemporaryDirectory() as tmp, running(Path(tmp), args) as streamer:
        async with ViewerClient(streamer.whep_url, token=streamer.token()) as viewer:
            await viewer.wait_for_frame(timeout_s=30)
            await asyncio.sleep(WARMUP_S)
            viewer.measure = type(viewer.measure)()
            moving = await window(streamer, seconds)
            report = await viewer.report()
            moving["motion_to_photon_ms"] = report["motion_to_photon_ms"]
            profile = await asyncio.to_thread(record_profile, streamer, profile_s)
            if not still:
                return {"moving": moving, "profile": profile}
            viewer.auto_move = False
            await asyncio.sleep(WARMUP_S)
            held = await window(streamer, seconds)
    return {"moving": moving, "still": held, "profile": profile}


@contextmanager
def running(tmp: Path, args: list[str]) -> Iterator[StreamerProcess]:
    streamer = start_streamer(tmp, *args)
    try:
        yield streamer
    finally:
        streamer.stop()


def record_profile(streamer: StreamerProcess, seconds: float) -> dict[str, Any]:
    """py-spy samples the streamer (without pausing it) into a speedscope file."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if seconds <= 0 or not Path(py_spy).exists():
        return {"error": "py-spy is not installed (the dev extra pins it)"}
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "streamer-720p30.speedscope.json"
    cmd = [py_spy, "record", "--pid", str(streamer.proc.pid), "--duration", str(int(seconds))]
    cmd += ["--rate", "100", "--nonblocking", "--threads", "--format", "speedscope"]
    cmd += ["--output", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or not path.exists():
        return {"error": f"py-spy exited {done.returncode}: {done.stderr.strip()[-300:]}"}
    return {"path": str(path.relative_to(ROOT)), "seconds": seconds, "tool": "py-spy"}


# ------------------------------------------------------------------ density


async def _density(sessions: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        streamers: list[StreamerProcess] = []
        viewers: list[asyncio.subprocess.Process] = []
        reading: list[asyncio.Task[dict[str, Any]]] = []
        try:
            for i in range(sessions):
                folder = Path(tmp) / str(i)
                folder.mkdir()
                streamers.append(
                    await asyncio.to_thread(
                        start_streamer,
                        folder,
                        *streamer_args(),
                        env={"IXS_STREAMER_HOST_SESSIONS": str(sessions)},
                    )
                )
            # Each viewer measures a little longer than the streamers' window, which
            # starts once all are warm: their windows then all cover it.
            watch_s = seconds + VIEWER_WARMUP_S
            viewers = [await _viewer_process(s, watch_s) for s in streamers]
            # Read each viewer's output from the start: a full pipe would stall it.
            reading = [asyncio.create_task(_viewer_report(v, watch_s)) for v in viewers]
            await asyncio.gather(*(_first_frame(s) for s in streamers))
            await asyncio.sleep(VIEWER_WARMUP_S + 0.5)  # inside every viewer's window
            viewer_cpu0 = [child_cpu_s(v.pid) for v in viewers]
            t0 = time.monotonic()
            windows = await asyncio.gather(*(window(s, seconds) for s in streamers))
            viewer_cores = sum(
                child_cpu_s(v.pid) - c0 for v, c0 in zip(viewers, viewer_cpu0, strict=True)
            ) / (time.monotonic() - t0)
            reports = await asyncio.gather(*reading)
        finally:
            for viewer in viewers:
                if viewer.returncode is None:
                    viewer.kill()
                    await viewer.wait()
            await asyncio.gather(*reading, return_exceptions=True)
            for streamer in streamers:
                streamer.stop()
    fps = [r["fps"] for r in reports]
    p95 = [r["motion_to_photon_ms"]["p95"] for r in reports]
    streamer_cores = [w["cpu_s_per_stream_s"] for w in windows]
    return {
        "sessions": sessions,
        "fps": fps,
        "motion_to_photon_p95_ms": p95,
        "motion_to_photon_p50_ms": [r["motion_to_photon_ms"]["p50"] for r in reports],
        "streamer_cores": streamer_cores,
        "streamers_cores_total": round(sum(streamer_cores), 3),
        "viewers_cores_total": round(viewer_cores, 3),  # decoding, on the same cores
        "meets_targets": all(f >= TARGETS["density_fps"] for f in fps)
        and all(p is not None and p <= TARGETS["density_motion_to_photon_p95_ms"] for p in p95),
    }


async def _viewer_process(streamer: StreamerProcess, seconds: float) -> asyncio.subprocess.Process:
    """A headless viewer in a process of its own, as each trainee's device is its own.

    The viewers still decode on the host's cores (the pessimistic figure), but
    not in one interpreter, whose one event loop and GIL would queue four
    sessions' packets behind each other.
    """
    cmd = [sys.executable, "-m", "ixstream", "client", streamer.whep_url]
    cmd += ["--token", streamer.token(), "--seconds", str(seconds)]
    cmd += ["--warmup", str(VIEWER_WARMUP_S), "--json"]
    return await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


async def _first_frame(streamer: StreamerProcess, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sample = await asyncio.to_thread(scrape_all, streamer.metrics_url)
        if sample.get("ixstream_streamer_frames_sent_total", 0.0) > 0:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no frame sent within {timeout_s} s")


async def _viewer_report(viewer: asyncio.subprocess.Process, seconds: float) -> dict[str, Any]:
    out, err = await asyncio.wait_for(viewer.communicate(), seconds + 60)
    if viewer.returncode != 0:
        raise RuntimeError(f"viewer exited {viewer.returncode}: {err.decode()[-500:]}")
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report


# ------------------------------------------------------------------ the suite


def cores_at_target(results: list[dict[str, Any]]) -> float:
    """CPU seconds per stream-second at the target rate: the median CPU per frame × fps.

    Per frame, because on a busy shared host a case may fall short of the target
    rate, and a case that makes fewer frames must not look cheaper for it.
    """
    return round(statistics.median(r["cpu_ms_per_frame"] for r in results) * FPS / 1000, 4)


def host_ceiling(floor_cores: float, session_cores: float, cpus: int) -> dict[str, Any]:
    """How many sessions the host's cores could hold at all, by the floor and by ours.

    A 2-vCPU VM's speed varies from day to day by more than any cut is worth; when
    four floors alone need more than the cores, the density result says so rather
    than looking like a regression.
    """
    return {
        "cpus": cpus,
        "sessions_by_floor": round(cpus / floor_cores, 2),
        "sessions_by_session_cpu": round(cpus / session_cores, 2),
        "why": "cores / CPU per stream-second: the most sessions whose work fits, "
        "with nothing left for viewers, the event loops' latency or anything else",
    }


def stage_table(
    after: list[dict[str, Any]], before: list[dict[str, Any]], floor_result: dict[str, Any]
) -> dict[str, Any]:
    """CPU ms per frame by stage: the session now and before the cuts (medians of the
    rounds), next to the floor's own-thread figures."""
    own = floor_result["own_thread_cpu_ms_per_frame"]

    def median(runs: list[dict[str, Any]], stage: str) -> float | None:
        values: list[float] = [r["stage_cpu_ms_per_frame"][stage] for r in runs]
        return round(statistics.median(values), 3) if values else None

    table = {
        stage: {
            "session": median(after, stage),
            "before": median(before, stage),
            "floor_own_thread": own.get(stage),
        }
        for stage in STAGES
    }
    table["total"] = {
        "session": round(statistics.median(r["cpu_ms_per_frame"] for r in after), 3),
        "before": round(statistics.median(r["cpu_ms_per_frame"] for r in before), 3)
        if before
        else None,
        "floor_own_thread": None,
    }
    return table


def run(
    seconds: float = 8.0, rounds: int = 1, sessions: int = 4, profile_s: float = 5.0
) -> dict[str, Any]:
    floors, moving, before, peers = [], [], [], []
    still: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    for round_ in range(rounds):
        floors.append(floor(seconds))
        session = asyncio.run(_session(seconds, profile_s if round_ == 0 else 0))
        moving.append(session["moving"])
        still = still or session["still"]
        profile = profile or session["profile"]
        before.append(asyncio.run(_session(seconds, 0, BEFORE_ARGS, still=False))["moving"])
        peers.append(peer(seconds))
    floor_cpu = cores_at_target(floors)
    ours_cpu = cores_at_target(moving)
    peer_cpu = cores_at_target(peers)
    steps = [n for n in (sessions - 1, sessions) if n > 0]
    densities = [asyncio.run(_density(n, seconds)) for n in steps]
    density = densities[-1] if densities else None
    held = [d["sessions"] for d in densities if d["meets_targets"]]
    return {
        "resolution": f"{WIDTH}x{HEIGHT}",
        "fps": FPS,
        "scene": SCENE,
        "targets": TARGETS,
        "cpu_s_per_stream_s_at_target_fps": {
            "floor": floor_cpu,
            "session": ours_cpu,
            "stock_aiortc": peer_cpu,
        },
        "session_vs_floor": round(ours_cpu / floor_cpu, 3),
        "session_vs_stock_aiortc": round(ours_cpu / peer_cpu, 3),
        "before": {"streamer_args": BEFORE_ARGS, "why": BEFORE_WHY},
        "stage_cpu_ms_per_frame": stage_table(moving, before, floors[0]),
        "session_vs_before": round(ours_cpu / cores_at_target(before), 3),
        "still_cores": still.get("cpu_s_per_stream_s"),
        "meets_targets": {
            "cpu_vs_floor": ours_cpu / floor_cpu <= TARGETS["cpu_vs_floor"],
            "still": still.get("cpu_s_per_stream_s", 1.0) <= TARGETS["still_cores"],
            "density": bool(density and density["meets_targets"]),
        },
        "density": density,
        "density_runs": densities,
        "host_ceiling": host_ceiling(floor_cpu, ours_cpu, available_cpus()),
        "sessions_meeting_targets": max(held, default=0),
        "profile": profile,
        "runs": {
            "floor": floors,
            "session": moving,
            "before": before,
            "still": still,
            "stock_aiortc": peers,
        },
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="cost per session (JSON)")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--profile-seconds", type=float, default=5.0)
    a = parser.parse_args()
    print(json.dumps(run(a.seconds, a.rounds, a.sessions, a.profile_seconds), indent=2))
