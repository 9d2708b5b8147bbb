"""A container run as a local process: the simulator's optional container runtime.

Each runs in its own session and process group (so signals reach helpers it forks),
with its output appended to a log file the pod's `log` subresource serves. Stopping
follows the kubelet: SIGTERM, then SIGKILL after the grace period; the process is
always waited for, so none is left a zombie.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path


class ContainerProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc

    @classmethod
    async def start(
        cls, argv: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: Path
    ) -> ContainerProcess:
        cwd.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (one local mkdir)
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        return cls(proc)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    async def wait(self) -> int:
        return await self._proc.wait()

    def signal(self, sig: signal.Signals) -> None:
        if self._proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)

    async def stop(self, grace_s: float) -> int:
        """SIGTERM, then SIGKILL after `grace_s`; returns the exit status."""
        self.signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(asyncio.shield(self._proc.wait()), grace_s)
        except TimeoutError:
            self.signal(signal.SIGKILL)
            return await self._proc.wait()


def exit_status(returncode: int) -> tuple[int, str | None]:
    """A process status as a container's `exitCode` (128 + signal, as shells report it)
    and the signal name, if any."""
    if returncode < 0:
        return 128 - returncode, signal.Signals(-returncode).name
    return returncode, None
