"""Waiting in tests: poll a condition until it holds, or fail after a deadline saying
what never happened.

A fixed sleep is either too short on a busy CI machine (a flaky test) or too long
everywhere else (a slow suite). A wait on the condition itself ends as soon as the
thing happened, and its deadline is only there to turn "never" into a failure, so
deadlines are generous and intervals short. `wait_until` blocks (threads, processes);
`eventually` yields to the event loop between checks, and its check may be a
coroutine function (an HTTP call, a browser query).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

#: Generous: CI machines are shared and slow. A passing wait costs only what it waits.
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_INTERVAL_S = 0.02

What = str | Callable[[], str]


def _failure(what: What, timeout_s: float) -> AssertionError:
    said = what() if callable(what) else what
    return AssertionError(f"{said}: did not happen within {timeout_s:g} s")


def wait_until(
    predicate: Callable[[], object],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    what: What = "the condition",
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> None:
    """Block until `predicate()` is true; `what` (or what it returns) names the failure."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise _failure(what, timeout_s)
        time.sleep(interval_s)


async def eventually(
    check: Callable[[], object | Awaitable[object]],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    what: What = "the condition",
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> None:
    """Poll `check` (plain or async) on the event loop until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await _holds(check):
        if loop.time() > deadline:
            raise _failure(what, timeout_s)
        await asyncio.sleep(interval_s)


async def _holds(check: Callable[[], object | Awaitable[object]]) -> bool:
    result = check()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)
