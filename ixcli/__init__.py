"""The `ixstream` command: the one package on top of every deployable.

It imports `streamer`, `orchestrator` and `ixclient` to register their subcommands,
and nothing imports it (the import-linter layers contract in pyproject.toml), so the
shared `ixstream` package stays at the bottom.
"""
