"""Ownership of background tasks (STYLE.md rule 7).

Every task the orchestrator starts belongs to a `TaskOwner`, which keeps a strong
reference (asyncio holds only weak ones), logs a task's unexpected exception instead of
losing it, and on `close()` cancels everything it owns and waits for it to finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger("orchestrator.tasks")


class TaskOwner:
    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: dict[asyncio.Task[Any], str] = {}
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        if self._closed:
            coro.close()
            raise RuntimeError(f"{self._owner} is shutting down; not starting {name}")
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._owner}:{name}")
        self._tasks[task] = name
        task.add_done_callback(self._finished)
        return task

    @property
    def closed(self) -> bool:
        """True once `close()` began: `spawn` refuses new tasks from then on."""
        return self._closed

    def pending_named(self, name: str) -> int:
        return sum(1 for task, n in self._tasks.items() if n == name and not task.done())

    def __len__(self) -> int:
        return len(self._tasks)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task, None)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error(
                "task.crashed",
                owner=self._owner,
                task=task.get_name(),
                exc_info=(type(exc), exc, exc.__traceback__),
            )

    async def close(self) -> None:
        """Cancel every owned task and wait for all of them to finish."""
        self._closed = True
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for task in tasks:
                self._tasks.pop(task, None)
