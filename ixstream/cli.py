"""The `ixstream` command: one entry point for every deployable.

Each subcommand lives with its package and keeps its heavy imports inside the
function, so starting one part never loads another's dependencies.
"""

from __future__ import annotations

import typer

from streamer.cli import stream

app = typer.Typer(
    name="ixstream",
    help="IX Stream: open pixel streaming for immersive training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("stream")(stream)


@app.callback()
def main() -> None:
    """IX Stream: open pixel streaming for immersive training."""


try:  # the client and orchestrator register themselves once they exist
    from ixclient.cli import client

    app.command("client")(client)
except ImportError:  # pragma: no cover - during bring-up only
    pass
try:
    from orchestrator.cli import up

    app.command("up")(up)
except ImportError:  # pragma: no cover - during bring-up only
    pass
