"""`ixstream up`: the orchestrator with the local backend, serving the web client at `/`.

Registered by `ixcli/app.py` as `app.command("up")(orchestrator.cli.up)`. Module
imports stay light (typer only) so `ixstream --help` does not load FastAPI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.identity import Role


def up(
    port: Annotated[int, typer.Option(help="TCP port for the API and web client.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    max_sessions: Annotated[
        int | None, typer.Option("--max-sessions", help="Sessions at once (default 4).")
    ] = None,
    pool: Annotated[
        int | None, typer.Option("--pool", help="Warm streamers to keep ready (default 1).")
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option("--state-dir", help="Streamer state, keys, logs, journal, audit log."),
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Default scenario (e.g. test-pattern).")
    ] = None,
    production: Annotated[
        bool,
        typer.Option(
            "--production/--dev",
            help="Production mode needs IXS_ORCH_JWT_SECRET or an OIDC issuer; dev mode "
            "generates a key and prints a login URL.",
        ),
    ] = False,
) -> None:
    """Start the orchestrator (local process backend) and serve the web client at `/`."""
    import uvicorn
    from pydantic import ValidationError

    from ixstream.logs import configure_logging
    from orchestrator.app import create_app
    from orchestrator.feed.server import FeedAwareServer
    from orchestrator.settings import OrchestratorSettings

    overrides: dict[str, Any] = {"port": port, "host": host}
    if production:
        overrides["mode"] = "production"
    for name, value in (
        ("max_sessions", max_sessions),
        ("pool_size", pool),
        ("state_dir", state_dir),
        ("default_scenario", scenario),
    ):
        if value is not None:
            overrides[name] = value
    try:
        settings = OrchestratorSettings(**overrides)
    except ValidationError as exc:
        messages = "; ".join(str(err["msg"]) for err in exc.errors())
        typer.echo(f"ixstream up: refusing to start: {messages}", err=True)
        raise typer.Exit(2) from None
    configure_logging(json_lines=settings.log_json)
    _announce(settings)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    FeedAwareServer(config).run()  # ends open event streams first when stopping


def _announce(settings: Any) -> None:
    """Dev mode: print a sign-in link for each role, so one person can play the trainee
    in one browser and the instructor (or operator) in another, as the README's
    walk-through does."""
    if settings.mode != "dev" or settings.jwt_secret is None:
        typer.echo(f"IX Stream orchestrator on http://{settings.host}:{settings.port}/", err=True)
        return
    import time

    where = "generated" if settings.generated_secret else "from IXS_ORCH_JWT_SECRET"
    base = f"http://{settings.host}:{settings.port}"
    lines = [f"IX Stream orchestrator (dev mode, key {where}). Sign in as:"]
    for role in (Role.TRAINEE, Role.INSTRUCTOR, Role.OPERATOR):
        token = dev_token(settings, role, now=time.time())
        lines.append(f"  {role.value:<10} {dev_login_url(base, token)}")
    typer.echo("\n".join(lines), err=True)


def dev_token(settings: Any, role: Role, *, now: float) -> str:
    """A 12-hour API token for the local `dev-<role>` user, signed with dev mode's key."""
    from orchestrator.auth import mint_api_token

    return mint_api_token(
        settings.jwt_secret.get_secret_value(),
        subject=f"dev-{role.value}",
        role=role,
        audience=settings.jwt_audience,
        now=now,
        ttl_s=12 * 3600,
    )


def dev_login_url(base_url: str, token: str) -> str:
    """The web client's address with `token` in the fragment (`#token=`), not the query:
    a browser never sends a fragment, so the operator token stays out of server and
    proxy access logs (the client reads it and clears the address bar)."""
    return f"{base_url}/#token={token}"
