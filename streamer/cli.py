"""`ixstream stream`: one streamer process serving one session.

Module-level imports stay light: aiortc, PyAV and moderngl load only when the
command runs, so `ixstream --help` is instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer


def stream(
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one")] = 8080,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port_file: Annotated[Path | None, typer.Option(help="write the bound port here")] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="TCP port serving only /metrics (default 9090, or IXS_STREAMER_METRICS_PORT); "
            "0 picks a free one"
        ),
    ] = None,
    metrics_port_file: Annotated[
        Path | None, typer.Option(help="write the bound metrics port here")
    ] = None,
    width: Annotated[int, typer.Option(help="frame width (both eyes in stereo)")] = 1280,
    height: Annotated[int, typer.Option()] = 720,
    fps: Annotated[int, typer.Option()] = 60,
    codec: Annotated[str, typer.Option(help="h264 or vp8")] = "h264",
    bitrate_kbps: Annotated[
        int | None, typer.Option(help="encoder ceiling; default: from size and rate")
    ] = None,
    stereo: Annotated[bool, typer.Option(help="side-by-side stereo for headsets")] = False,
    source: Annotated[str, typer.Option(help="scene or test-pattern")] = "scene",
    scene: Annotated[Path | None, typer.Option(help="glTF 2.0 scene (.glb)")] = None,
    session_id: Annotated[str | None, typer.Option(help="tokens must carry this sid")] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="accept viewers without a token")
    ] = False,
    ice_host: Annotated[
        list[str] | None, typer.Option(help="host candidate address to offer (repeatable)")
    ] = None,
    host_sessions: Annotated[
        int | None,
        typer.Option(help="sessions sharing this host's cores: each encoder's thread budget"),
    ] = None,
) -> None:
    """Render, encode and stream one session over WebRTC (WHEP at /whep)."""
    from streamer.server import StartupError, serve
    from streamer.settings import StreamerSettings

    overrides: dict[str, object] = {
        "port": port,
        "host": host,
        "port_file": port_file,
        "metrics_port_file": metrics_port_file,
        "width": width,
        "height": height,
        "fps": fps,
        "codec": _choice(codec, ("h264", "vp8"), "codec"),
        "stereo": stereo,
        "source": _choice(source, ("scene", "test-pattern"), "source"),
        "scene": scene,
        "session_id": session_id,
        "auth": not no_auth,
    }
    if ice_host:
        overrides["ice_host_addresses"] = ice_host
    if metrics_port is not None:  # else the setting's own (IXS_STREAMER_METRICS_PORT, 9090)
        overrides["metrics_port"] = metrics_port
    if bitrate_kbps is not None:  # else IXS_STREAMER_BITRATE_KBPS, or from the pixel rate
        overrides["bitrate_kbps"] = bitrate_kbps
    if host_sessions is not None:  # else IXS_STREAMER_HOST_SESSIONS, or 1
        overrides["host_sessions"] = host_sessions
    try:
        settings = StreamerSettings(**overrides)  # type: ignore[arg-type]
        code = serve(settings)
    except StartupError as exc:
        typer.echo(f"ixstream stream: {exc}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        typer.echo(f"ixstream stream: invalid settings: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def _choice(
    value: str, allowed: tuple[str, ...], name: str
) -> Literal["h264", "vp8", "scene", "test-pattern"]:
    if value not in allowed:
        raise typer.BadParameter(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value  # type: ignore[return-value]
