"""`ixstream client`: connect to a session, watch it, print what it measured."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer


def client(
    whep_url: Annotated[str, typer.Argument(help="the session's WHEP endpoint")],
    token: Annotated[str | None, typer.Option(help="bearer token")] = None,
    seconds: Annotated[float, typer.Option(help="how long to watch")] = 5.0,
    codec: Annotated[str, typer.Option(help="h264 or vp8")] = "h264",
    json_output: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    pose_hz: Annotated[float, typer.Option(help="head pose samples per second")] = 60.0,
) -> None:
    """Watch a session headlessly and report fps and latency."""
    from ixclient.whep import WhepError

    try:
        report = asyncio.run(_watch(whep_url, token, seconds, codec, pose_hz))
    except WhepError as exc:
        typer.echo(f"ixstream client: the server refused the session: {exc}", err=True)
        raise typer.Exit(3) from None
    except (OSError, TimeoutError) as exc:
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
    url: str, token: str | None, seconds: float, codec: str, pose_hz: float
) -> dict[str, Any]:
    from ixclient.viewer import ViewerClient

    async with ViewerClient(url, token=token, codec=codec, pose_hz=pose_hz) as viewer:
        return await viewer.run(seconds)
