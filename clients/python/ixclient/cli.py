"""`ixstream client`: connect to a session, watch it, print what it measured."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer


def client(
    whep_url: Annotated[str, typer.Argument(help="the session's WHEP endpoint")],
    token: Annotated[str | None, typer.Option(help="bearer token")] = None,
    seconds: Annotated[float, typer.Option(min=0, help="how long to watch")] = 5.0,
    codec: Annotated[str, typer.Option(help="h264 or vp8")] = "h264",
    json_output: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    pose_hz: Annotated[
        float, typer.Option(min=1, max=1000, help="head pose samples per second")
    ] = 60.0,
    warmup: Annotated[
        float, typer.Option(min=0, help="seconds to watch after the first frame before measuring")
    ] = 0.0,
) -> None:
    """Watch a session headlessly and report fps and latency.

    With `--warmup` the figures cover the steady state only: connecting, the
    first keyframe and the encoder's first seconds are left out, as a
    benchmark that runs several viewers side by side needs.
    """
    import httpx

    from ixclient.whep import WhepError

    try:
        report = asyncio.run(_watch(whep_url, token, seconds, codec, pose_hz, warmup))
    except WhepError as exc:
        typer.echo(f"ixstream client: the server refused the session: {exc}", err=True)
        raise typer.Exit(3) from None
    except (OSError, TimeoutError, httpx.HTTPError) as exc:  # httpx's are not OSErrors
        typer.echo(f"ixstream client: cannot reach {whep_url}: {exc}", err=True)
        raise typer.Exit(4) from None
    if json_output:
        typer.echo(json.dumps(report))
    else:
        for key, value in report.items():
            typer.echo(f"{key:>24}: {value}")
    if not report["frames"]:
        raise typer.Exit(1)


async def _watch(
    url: str, token: str | None, seconds: float, codec: str, pose_hz: float, warmup: float
) -> dict[str, Any]:
    from ixclient.viewer import Measurements, ViewerClient

    async with ViewerClient(url, token=token, codec=codec, pose_hz=pose_hz) as viewer:
        if warmup <= 0:
            return await viewer.run(seconds)
        await viewer.wait_for_frame(timeout_s=60)
        first = viewer.measure
        await asyncio.sleep(warmup)
        viewer.measure = Measurements()
        report = await viewer.run(seconds)
    if first.first_frame_ms is not None:  # the steady state's figures, the real start's
        report["time_to_first_frame_ms"] = round(first.first_frame_ms - first.started_ms, 1)
    report["warmup_s"] = warmup
    return report
