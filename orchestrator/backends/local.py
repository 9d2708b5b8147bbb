"""LocalProcessBackend: one `ixstream stream` process per streamer, on this machine.

The embedded default for `ixstream up` and the sandbox (DESIGN.md §3). Each streamer:

- is started as `python -m ixstream stream --port 0 --port-file F --metrics-port 0
  --metrics-port-file M ...` (its metrics on a port of their own) in its own
  process group (so Ctrl-C in the orchestrator's terminal does not reach it, and a stop
  signal reaches any helper it forks), with its output in `logs/ID.log`;
- gets a fresh HS256 key in its environment (`IXS_STREAMER_JWT_SECRET`, never argv:
  argv is world-readable in /proc), kept in `keys/ID.key` (mode 0600) so a restarted
  orchestrator can still mint tokens for it;
- is described by `streamers/ID.json` (PID, process start time, ports, bound session,
  key file, profile), written before the process exists and updated as it changes, so
  a restarted orchestrator finds everything a previous run left;
- is stopped with SIGTERM to its group, then SIGKILL after `stop_grace_s`, and always
  waited for (our own children are reaped, so nothing is left a zombie).

Claims are atomic because nothing awaits between finding a free streamer and binding
it: on one event loop no other claim can run in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import httpx
import structlog

from orchestrator.backends import procfs
from orchestrator.backends.base import (
    Observation,
    SessionBackend,
    Streamer,
    StreamerPhase,
    StreamerProfile,
    parse_status,
)
from orchestrator.backends.log_tail import file_log_tail
from orchestrator.backends.streamer_command import (
    ICE_ENV,
    KEY_ENV,
    SUBCOMMAND,
    cors_env,
    streamer_command,
)
from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import BackendError, StateDirLockedError, StreamerStartError
from orchestrator.ice.issuer import IceIssuer, ice_servers_env
from orchestrator.sessions.states import FailureReason, SessionState
from orchestrator.tokens import control_headers

log = structlog.get_logger("orchestrator.backends.local")

#: Environment variables the orchestrator must not pass on to streamers (its own
#: secrets live under this prefix).
PRIVATE_ENV_PREFIX = "IXS_ORCH_"
DEFAULT_COMMAND = (sys.executable, "-m", "ixstream", SUBCOMMAND)


@dataclass(frozen=True, slots=True)
class LocalBackendConfig:
    state_dir: Path
    host: str = "127.0.0.1"
    command: tuple[str, ...] = DEFAULT_COMMAND
    stop_grace_s: float = 3.0
    http_timeout_s: float = 2.0
    ice_hosts: tuple[str, ...] | None = None
    cors_origins: tuple[str, ...] = ()
    #: ICE servers for streamers (TURN credentials per session); None or unconfigured:
    #: the streamer's own `IXS_STREAMER_ICE_SERVERS`, if the environment has one.
    ice: IceIssuer | None = None
    #: Streamers sharing this host's cores at most (the orchestrator's `max_sessions`):
    #: each sizes its encoder's threads to its share (docs/capacity.md).
    host_sessions: int = 1


@dataclass(slots=True)
class _Entry:
    streamer: Streamer
    state_file: Path
    port_file: Path
    key_file: Path
    log_file: Path
    metrics_port_file: Path
    pid: int | None = None
    start_ticks: int | None = None
    port: int | None = None
    #: Where the streamer serves `/metrics` (and only that): for Prometheus and tests.
    metrics_port: int | None = None
    proc: asyncio.subprocess.Process | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        s = self.streamer
        return {
            "id": s.id,
            "pid": self.pid,
            "start_ticks": self.start_ticks,
            "port": self.port,
            "metrics_port": self.metrics_port,
            "session_id": s.session_id,
            "phase": s.phase.value,
            "profile": s.profile.to_json(),
            "created_at": s.created_at,
            "ready_at": s.ready_at,
            "key_file": str(self.key_file),
            "port_file": str(self.port_file),
            "metrics_port_file": str(self.metrics_port_file),
            "log_file": str(self.log_file),
        }


def streamer_env(
    parent: dict[str, str],
    key: str,
    cors_origins: Sequence[str] = (),
    ice_servers_json: str | None = None,
) -> dict[str, str]:
    """The child's environment: ours (PATH, locale, GPU driver variables) minus the
    orchestrator's own settings and secrets, plus the streamer's key, the origins
    its WHEP endpoint admits (CORS) and, when the orchestrator has some, its ICE servers."""
    env = {k: v for k, v in parent.items() if not k.startswith(PRIVATE_ENV_PREFIX)}
    env[KEY_ENV] = key
    env.update(cors_env(cors_origins))
    if ice_servers_json is not None:
        env[ICE_ENV] = ice_servers_json
    return env


class LocalProcessBackend(SessionBackend):
    name = "local"

    def __init__(self, config: LocalBackendConfig, clock: Clock | None = None) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._entries: dict[str, _Entry] = {}
        self._stopping: dict[str, asyncio.Task[None]] = {}
        self._http: httpx.AsyncClient | None = None
        self._lock_file: IO[bytes] | None = None
        root = config.state_dir
        self._dirs = {name: root / name for name in ("streamers", "keys", "logs")}

    # --- lifecycle of the backend itself ---------------------------------------------

    async def open(self) -> None:
        for directory in self._dirs.values():
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self._dirs["keys"], 0o700)
        self._lock_state_dir()
        # trust_env=False: streamers are on loopback; an HTTP(S)_PROXY must not apply.
        self._http = httpx.AsyncClient(trust_env=False, timeout=self._config.http_timeout_s)
        for state_file in sorted(self._dirs["streamers"].glob("*.json")):
            self._load(state_file)

    async def close(self) -> None:
        if self._stopping:
            await asyncio.gather(*self._stopping.values(), return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _lock_state_dir(self) -> None:
        path = self._config.state_dir / "lock"
        lock_file = path.open("ab")
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise StateDirLockedError(
                f"another orchestrator is using {self._config.state_dir}; stop it or choose "
                "another IXS_ORCH_STATE_DIR"
            ) from None
        self._lock_file = lock_file

    # --- SessionBackend -------------------------------------------------------------

    async def spawn(self, profile: StreamerProfile, session_id: str | None) -> Streamer:
        streamer_id = f"st-{secrets.token_hex(6)}"
        key = secrets.token_urlsafe(32)
        entry = _Entry(
            streamer=Streamer(
                id=streamer_id,
                profile=profile,
                key=key,
                phase=StreamerPhase.STARTING,
                session_id=session_id,
                base_url=None,
                created_at=self._clock.now(),
            ),
            state_file=self._dirs["streamers"] / f"{streamer_id}.json",
            port_file=self._dirs["streamers"] / f"{streamer_id}.port",
            key_file=self._dirs["keys"] / f"{streamer_id}.key",
            log_file=self._dirs["logs"] / f"{streamer_id}.log",
            metrics_port_file=self._dirs["streamers"] / f"{streamer_id}.metrics-port",
        )
        _write_secret(entry.key_file, key)
        self._entries[streamer_id] = entry
        self._persist(entry)  # before the process exists: a crash now leaves a trace
        argv = streamer_command(
            self._config.command,
            profile,
            session_id,
            host=self._config.host,
            port=0,  # the kernel picks a free port; the streamer writes it to port_file
            port_file=entry.port_file,
            metrics_port=0,
            metrics_port_file=entry.metrics_port_file,
            ice_hosts=self._config.ice_hosts or (),
            host_sessions=self._config.host_sessions,
        )
        try:
            with entry.log_file.open("ab") as log_out:
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log_out,
                    stderr=asyncio.subprocess.STDOUT,
                    env=streamer_env(
                        dict(os.environ),
                        key,
                        self._config.cors_origins,
                        self._ice_servers(session_id or streamer_id),
                    ),
                    start_new_session=True,
                )
        except OSError as exc:
            self._forget(entry, keep_log=True)
            raise StreamerStartError(
                FailureReason.SPAWN_FAILED, f"could not start {argv[0]!r}: {exc}"
            ) from exc
        except BaseException:
            # Cancelled mid-spawn: asyncio has already killed a half-started child.
            self._forget(entry)
            raise
        entry.proc, entry.pid = proc, proc.pid
        entry.start_ticks = procfs.start_ticks(proc.pid)
        self._persist(entry)
        log.info("streamer.spawned", streamer=streamer_id, pid=proc.pid, session=session_id)
        return entry.streamer

    async def wait_ready(self, streamer_id: str, timeout_s: float) -> Streamer:
        entry = self._get(streamer_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            if not self._alive(entry):
                await self._collect_exit(entry)
                raise StreamerStartError(
                    FailureReason.STREAMER_EXITED,
                    f"streamer {streamer_id} {self._exit_detail(entry)} before it was ready"
                    f"{file_log_tail(entry.log_file)}",
                )
            if entry.port is None:
                entry.port = _read_port(entry.port_file)
                # Written before the port file: there once the port is.
                entry.metrics_port = _read_port(entry.metrics_port_file)
            if entry.port is not None and await self._answers_ready(entry.port):
                break
            if loop.time() >= deadline:
                raise StreamerStartError(
                    FailureReason.START_TIMEOUT,
                    f"streamer {streamer_id} was not ready after {timeout_s:g} s"
                    f"{file_log_tail(entry.log_file)}",
                )
            await asyncio.sleep(0.02)
        entry.streamer = entry.streamer.with_phase(
            StreamerPhase.READY,
            base_url=f"http://{_url_host(self._config.host)}:{entry.port}",
            ready_at=self._clock.now(),
        )
        self._persist(entry)
        return entry.streamer

    async def claim(self, profile: StreamerProfile, session_id: str) -> Streamer | None:
        # No await from here to the return: atomic with respect to every other claim.
        candidates = sorted(
            (
                e
                for e in self._entries.values()
                if e.streamer.phase is StreamerPhase.READY
                and e.streamer.session_id is None
                and e.streamer.profile == profile
                and e.streamer.id not in self._stopping
                and self._alive(e)
            ),
            key=lambda e: e.streamer.ready_at or 0.0,
        )
        if not candidates:
            return None
        entry = candidates[0]
        entry.streamer = replace(entry.streamer, session_id=session_id)
        self._persist(entry)
        return entry.streamer

    async def list(self) -> list[Streamer]:
        return [e.streamer for e in self._entries.values() if e.streamer.id not in self._stopping]

    def recorded_session_state(self, streamer_id: str) -> str | None:
        """`ended`, whatever the streamer: no other orchestrator shares this machine's
        streamers, so a session the one running here does not know is over."""
        return SessionState.ENDED.value

    async def observe(self, streamer_id: str) -> Observation:
        entry = self._entries.get(streamer_id)
        if entry is None:
            return Observation(alive=False, detail=f"streamer {streamer_id} is unknown")
        if not self._alive(entry):
            await self._collect_exit(entry)
            return Observation(
                alive=False,
                detail=f"streamer {streamer_id} {self._exit_detail(entry)}"
                f"{file_log_tail(entry.log_file)}",
            )
        base_url = entry.streamer.base_url
        if base_url is None:
            return Observation(alive=True, detail="not listening yet")
        headers = control_headers(entry.streamer.key, entry.streamer.session_id)
        try:
            response = await self._client().get(f"{base_url}/v1/status", headers=headers)
            response.raise_for_status()
            status = parse_status(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            return Observation(alive=True, detail=f"status unavailable: {exc!r}")
        return Observation(alive=True, status=status)

    async def delete(self, streamer_id: str) -> None:
        if streamer_id not in self._entries:
            return
        task = self._stopping.get(streamer_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._stop(self._entries[streamer_id]), name=f"stop:{streamer_id}"
            )
            self._stopping[streamer_id] = task
            task.add_done_callback(lambda _: self._stopping.pop(streamer_id, None))
        # Shielded: a caller that gives up waiting does not leave a half-stopped process.
        await asyncio.shield(task)

    # --- stopping ------------------------------------------------------------------

    async def _stop(self, entry: _Entry) -> None:
        if entry.pid is not None and self._alive(entry):
            self._signal(entry, signal.SIGTERM)
            if not await self._wait_exit(entry, self._config.stop_grace_s):
                log.warning(
                    "streamer.kill",
                    streamer=entry.streamer.id,
                    pid=entry.pid,
                    grace_s=self._config.stop_grace_s,
                )
                self._signal(entry, signal.SIGKILL)
                if not await self._wait_exit(entry, 5.0):
                    raise BackendError(
                        f"streamer {entry.streamer.id} (pid {entry.pid}) survived SIGKILL"
                    )
        elif entry.proc is not None:
            await entry.proc.wait()  # already exited: make sure it is reaped
        log.info(
            "streamer.stopped",
            streamer=entry.streamer.id,
            pid=entry.pid,
            exit=self._exit_detail(entry),
        )
        clean = entry.proc is None or entry.proc.returncode == 0
        self._forget(entry, keep_log=not clean)

    def _signal(self, entry: _Entry, sig: signal.Signals) -> None:
        assert entry.pid is not None
        with contextlib.suppress(ProcessLookupError):
            # The streamer leads its own process group (start_new_session); signal the
            # group so helpers it forked go too. Verified identity first (see procfs).
            if os.getpgid(entry.pid) == entry.pid:
                os.killpg(entry.pid, sig)
            else:
                os.kill(entry.pid, sig)

    async def _wait_exit(self, entry: _Entry, timeout_s: float) -> bool:
        if entry.proc is not None:
            try:
                await asyncio.wait_for(entry.proc.wait(), timeout_s)
            except TimeoutError:
                return False
            return True
        # Adopted from a previous run: not our child, so poll (its parent reaps it).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._alive(entry):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    # --- bookkeeping --------------------------------------------------------------

    def _alive(self, entry: _Entry) -> bool:
        if entry.pid is None:
            return False
        if entry.proc is not None and entry.proc.returncode is not None:
            return False
        return procfs.is_running(entry.pid, entry.start_ticks)

    async def _collect_exit(self, entry: _Entry) -> None:
        """Our child is gone from /proc: let asyncio record its exit status (it reaps it
        on a watcher thread and reports back on the loop a moment later)."""
        if entry.proc is not None and entry.proc.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry.proc.wait(), 2.0)

    def _exit_detail(self, entry: _Entry) -> str:
        if entry.pid is None:
            return "never started"
        if entry.proc is not None and entry.proc.returncode is not None:
            code = entry.proc.returncode
            if code < 0:
                return f"was killed by {signal.Signals(-code).name}"
            return f"exited with code {code}"
        if entry.proc is None:
            return f"(pid {entry.pid}, from a previous run) is gone"
        return "has exited"

    def _get(self, streamer_id: str) -> _Entry:
        entry = self._entries.get(streamer_id)
        if entry is None:
            raise BackendError(f"streamer {streamer_id} is unknown to the local backend")
        return entry

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise BackendError("the local backend is not open")
        return self._http

    async def _answers_ready(self, port: int) -> bool:
        url = f"http://{_url_host(self._config.host)}:{port}/readyz"
        try:
            response = await self._client().get(url, timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _ice_servers(self, subject: str) -> str | None:
        """The streamer's ICE servers as JSON, when the orchestrator has any to give."""
        ice = self._config.ice
        return ice_servers_env(ice.servers_for(subject)) if ice and ice.configured else None

    def _persist(self, entry: _Entry) -> None:
        tmp = entry.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry.to_json(), indent=1), encoding="utf-8")
        os.replace(tmp, entry.state_file)

    def _forget(self, entry: _Entry, keep_log: bool = False) -> None:
        """Drop every trace of a streamer; its log stays if it did not exit cleanly."""
        self._entries.pop(entry.streamer.id, None)
        doomed = [entry.state_file, entry.port_file, entry.metrics_port_file, entry.key_file]
        if not keep_log:
            doomed.append(entry.log_file)
        for path in doomed:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _load(self, state_file: Path) -> None:
        """Re-adopt what a previous run left in `state_file` (see module docstring)."""
        try:
            data = json.loads(state_file.read_text(encoding="utf-8"))
            key_file = Path(data["key_file"])
            port_file = Path(data["port_file"])
            # Absent from a record an older version wrote: next to the port file.
            metrics_port_file = Path(
                data.get("metrics_port_file") or port_file.with_suffix(".metrics-port")
            )
            entry = _Entry(
                streamer=Streamer(
                    id=data["id"],
                    profile=StreamerProfile.from_json(data["profile"]),
                    key=key_file.read_text(encoding="utf-8").strip(),
                    phase=StreamerPhase(data["phase"]),
                    session_id=data["session_id"],
                    base_url=None,
                    created_at=float(data["created_at"]),
                    ready_at=data.get("ready_at"),
                ),
                state_file=state_file,
                port_file=port_file,
                key_file=key_file,
                log_file=Path(data["log_file"]),
                metrics_port_file=metrics_port_file,
                pid=data["pid"],
                start_ticks=data["start_ticks"],
                port=data["port"],
                metrics_port=data.get("metrics_port"),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._adopt_unreadable(state_file, exc)
            return
        if entry.pid is None:
            # Crashed between spawn and recording the PID: find it by its port file.
            entry.pid = procfs.find_pid_with_argument(str(port_file))
            entry.start_ticks = procfs.start_ticks(entry.pid) if entry.pid else None
        if entry.port is None:
            entry.port = _read_port(port_file)
        if entry.metrics_port is None:
            entry.metrics_port = _read_port(metrics_port_file)
        if entry.port is not None and entry.streamer.phase is StreamerPhase.READY:
            entry.streamer = replace(
                entry.streamer, base_url=f"http://{_url_host(self._config.host)}:{entry.port}"
            )
        self._entries[entry.streamer.id] = entry
        log.info(
            "streamer.found",
            streamer=entry.streamer.id,
            pid=entry.pid,
            alive=self._alive(entry),
            session=entry.streamer.session_id,
        )

    def _adopt_unreadable(self, state_file: Path, exc: Exception) -> None:
        """A state file we cannot use: stop its process if it names one, then drop it."""
        log.error("streamer.state_unreadable", file=str(state_file), error=repr(exc))
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(state_file.read_text(encoding="utf-8"))
            pid, ticks = int(data["pid"]), int(data["start_ticks"])
            if procfs.is_running(pid, ticks):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            state_file.rename(state_file.with_suffix(".corrupt"))


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value)


def _read_port(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    try:
        return int(text)
    except ValueError:
        return None  # written atomically by contract, but be lenient with a partial file


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
