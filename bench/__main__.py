"""`make bench`: every benchmark in one JSON document, each with its same-run baseline.

Benchmarks report ratios against a baseline measured in the same run, since
absolute times on shared machines vary ±30 % run to run.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

from ixstream.logs import configure_logging

SUITES = (
    "render",
    "encode",
    "stream",
    "cost",
    "scenario",
    "orchestrator",
    "kubernetes",
    "learning",
    "feed",
)


def main(selected: list[str]) -> int:
    configure_logging("warning")  # logs to stderr: stdout is the JSON document alone
    results: dict[str, Any] = {}
    failed = False
    for name in selected or SUITES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            continue
        started = time.monotonic()
        try:
            results[name] = module.run()
        except Exception as exc:  # one broken suite must not hide the others' figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
        results[name + "_seconds"] = round(time.monotonic() - started, 1)
        print(f"bench: {name} done", file=sys.stderr)
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
