"""Media-plane load: N sessions through the orchestrator, N headless clients, one report.

Locust cannot drive aiortc (it runs on gevent), so this harness is asyncio: it creates
N sessions over the API (`wait=true`, so they queue when the orchestrator is full),
waits for each to be ready, then runs N `ixstream client WHEP_URL --token T --seconds S
--json` subprocesses at once — separate processes, so clients do not share one event
loop or one core the way a single Python process would — and prints per-session fps
and latency percentiles, plus a summary, as JSON.

    python -m load_tests.media --host http://127.0.0.1:8000 --token "$TOKEN" \\
        --sessions 4 --seconds 10 [--width 1280 --height 720 --fps 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import httpx

READY_STATES = ("ready", "active")


async def create_session(
    http: httpx.AsyncClient, body: dict[str, Any], timeout_s: float
) -> dict[str, Any]:
    """Create a session and wait until it can take a viewer."""
    created = await http.post("/v1/sessions", params={"wait": "true"}, json=body)
    created.raise_for_status()
    session: dict[str, Any] = created.json()
    deadline = time.monotonic() + timeout_s
    while session["state"] not in READY_STATES or not session.get("token"):
        if session["state"] in ("failed", "ended"):
            raise RuntimeError(f"session {session['id']} {session['state']}: {session['detail']}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"session {session['id']} still {session['state']}")
        await asyncio.sleep(0.25)
        session = (await http.get(f"/v1/sessions/{session['id']}")).json()
    return session


async def watch(session: dict[str, Any], seconds: float) -> dict[str, Any]:
    """One headless client subprocess; its JSON report, or the reason it failed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ixstream", "client", session["whep_url"],
        "--token", session["token"], "--seconds", str(seconds), "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    result: dict[str, Any] = {"session": session["id"], "exit_code": proc.returncode}
    try:
        result["report"] = json.loads(out.decode().strip().splitlines()[-1])
    except (IndexError, ValueError):
        result["error"] = err.decode(errors="replace")[-1000:]
    return result


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    reports = [r["report"] for r in results if "report" in r]
    fps = [r["fps"] for r in reports]

    def medians(key: str) -> list[float]:
        return [r[key]["p50"] for r in reports if r.get(key) and r[key].get("p50") is not None]

    return {
        "sessions": len(results),
        "clients_ok": sum(1 for r in results if r["exit_code"] == 0),
        "fps_min": min(fps, default=None),
        "fps_median": statistics.median(fps) if fps else None,
        "time_to_first_frame_ms_median": statistics.median(
            [r["time_to_first_frame_ms"] for r in reports if r["time_to_first_frame_ms"]]
        )
        if reports
        else None,
        "motion_to_photon_p50_ms_median": statistics.median(medians("motion_to_photon_ms"))
        if medians("motion_to_photon_ms")
        else None,
        "glass_to_glass_p50_ms_median": statistics.median(medians("glass_to_glass_ms"))
        if medians("glass_to_glass_ms")
        else None,
    }


async def run(
    host: str,
    token: str,
    sessions: int,
    seconds: float,
    body: dict[str, Any],
    ready_timeout_s: float = 120.0,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=host, headers=headers, timeout=60) as http:
        created = await asyncio.gather(
            *(create_session(http, body, ready_timeout_s) for _ in range(sessions))
        )
        try:
            results = await asyncio.gather(*(watch(s, seconds) for s in created))
        finally:
            await asyncio.gather(*(http.delete(f"/v1/sessions/{s['id']}") for s in created))
    per_session = [
        {
            "session": r["session"],
            "exit_code": r["exit_code"],
            **(
                {
                    "fps": r["report"]["fps"],
                    "frames": r["report"]["frames"],
                    "time_to_first_frame_ms": r["report"]["time_to_first_frame_ms"],
                    "motion_to_photon_ms": r["report"]["motion_to_photon_ms"],
                    "glass_to_glass_ms": r["report"]["glass_to_glass_ms"],
                }
                if "report" in r
                else {"error": r.get("error")}
            ),
        }
        for r in results
    ]
    return {"summary": summarise(results), "sessions": per_session}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an API token (any role)")
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--fps", type=int)
    parser.add_argument("--scenario")
    args = parser.parse_args(argv)
    body = {
        k: v
        for k, v in {
            "width": args.width,
            "height": args.height,
            "fps": args.fps,
            "scenario": args.scenario,
        }.items()
        if v is not None
    }
    report = asyncio.run(run(args.host, args.token, args.sessions, args.seconds, body))
    print(json.dumps(report, indent=2))
    return 0 if report["summary"]["clients_ok"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
