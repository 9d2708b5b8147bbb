"""`python -m orchestrator up ...`: the same command as `ixstream up`, for when the
orchestrator runs without the `ixstream` entry point (e.g. a slim container image)."""

from __future__ import annotations

import typer

from orchestrator.cli import up

app = typer.Typer(add_completion=False, help="IX Stream orchestrator.")
app.command("up")(up)


@app.callback()
def main() -> None:
    """IX Stream orchestrator."""


if __name__ == "__main__":
    app()
