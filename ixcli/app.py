"""The `ixstream` command's typer app: one entry point for every deployable.

Each subcommand lives with its package and keeps its heavy imports inside the
function, so starting one part never loads another's dependencies.
"""

from __future__ import annotations

import typer

from ixclient.cli import client
from orchestrator.cli import up
from streamer.cli import stream

app = typer.Typer(
    name="ixstream",
    help="IX Stream: open pixel streaming for immersive training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("stream")(stream)
app.command("client")(client)
app.command("up")(up)


@app.callback()
def main() -> None:
    """IX Stream: open pixel streaming for immersive training."""
