"""The kubelet model: runs pods bound to live nodes, reports their status, stops them.

For every pod the scheduler binds, one `_Runtime` task (owned here, cancelled on
close) walks the pod through pod-lifecycle.md:

1. sandbox: a pod IP from the node's pod CIDR (inside 127.0.0.0/8, so anything that
   dials it stays on this machine), `Initialized`, container `waiting:
   ContainerCreating`;
2. container start: the environment is resolved first, as the kubelet does when it
   creates the container: a `secretKeyRef` to a Secret that does not exist (yet) leaves
   the container waiting with `CreateContainerConfigError`, retried until the Secret
   appears (its creation wakes the wait at once; the real kubelet retries on a back-off
   of about 10 s, but also spends longer on sandbox and image than this model does);
   then *simulated* (the default): `Running` and `Ready` after `ready_delay_s`; *run*
   (the image's entrypoint is known, see `containers`): the
   container's command runs as a local process with its environment, `$(VAR)`
   expansion included, and `Ready` follows its `readinessProbe` (httpGet), so a
   streamer behind a simulated pod is a real streamer at `podIP:containerPort`;
3. exit: a process that ends (or a crash requested through the admin API) terminates
   the container; with `restartPolicy: Never` the pod is `Failed` (or `Succeeded`);
   otherwise it restarts with `restartCount` + 1 after a back-off;
4. deletion: when `deletionTimestamp` appears, SIGTERM, SIGKILL after the grace
   period, then the pod is removed from the store (the kubelet's final delete);
5. node-pressure eviction (admin API): the container is killed and the pod is left
   `Failed` with reason `Evicted` and a `DisruptionTarget` condition, as a real kubelet
   leaves it.

A node that is lost stops its kubelet: its processes die with it and nothing more is
reported for its pods (the node lifecycle controller takes over, see `nodes`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from kubesim import kinds
from kubesim.conditions import with_condition
from kubesim.containers import (
    ContainerConfigError,
    container_env,
    entrypoint,
    expand,
    image_repository,
)
from kubesim.processes import ContainerProcess, exit_status
from kubesim.store import Event, Obj, Store, now_rfc3339

Key = tuple[str, str]
#: Variables a local container process inherits from the simulator: enough to find
#: an interpreter; nothing else of the simulator's environment leaks in.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
RESTART_BACKOFF_S = 1.0
#: How often a container whose Secret or ConfigMap is missing retries without a nudge.
CONFIG_RETRY_S = 0.5
#: Kinds a container's environment reads; their arrival wakes containers waiting on them.
CONFIG_KINDS = (kinds.SECRETS, kinds.CONFIGMAPS)


@dataclass(frozen=True, slots=True)
class KubeletConfig:
    ready_delay_s: float = 0.05
    """Seconds from container start to Ready for simulated containers."""
    stop_delay_s: float = 0.0
    """Seconds a simulated container takes to stop (capped by the grace period)."""
    run_images: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Image (or repository) -> entrypoint argv: containers of these images really run."""
    work_dir: Path | None = None
    """Where run containers get their working directory and log file."""
    probe_period_scale: float = 1.0
    """Multiplies probe periods (tests may probe faster than the 1 s minimum)."""
    unpullable_images: frozenset[str] = frozenset()
    """Images (or repositories) the registry does not have: ErrImagePull, then back-off."""


@dataclass(eq=False)
class _Runtime:
    key: Key
    node: str
    ip: str
    commands: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    process: ContainerProcess | None = None
    task: asyncio.Task[None] | None = None
    ready: bool = False
    #: Waiting for a Secret or ConfigMap its environment names: one nudge is queued
    #: (a "config" command) when such an object is written in its namespace.
    awaiting_config: bool = False


class Kubelet:
    def __init__(self, store: Store, config: KubeletConfig) -> None:
        self._store = store
        self.config = config
        self._runtimes: dict[Key, _Runtime] = {}
        self._node_index: dict[str, int] = {}
        self._free_ips: dict[str, list[str]] = {}
        self._dead_nodes: set[str] = set()
        self._http: httpx.AsyncClient | None = None
        self._closed = False
        store.subscribe(self._on_event)

    # --- addressing ------------------------------------------------------------------

    def node_number(self, node: str) -> int:
        if node not in self._node_index:
            self._node_index[node] = len(self._node_index) + 1
        return self._node_index[node]

    def host_ip(self, node: str) -> str:
        n = self.node_number(node)
        return f"127.1.{n // 256}.{n % 256}"

    def pod_cidr(self, node: str) -> str:
        n = self.node_number(node)
        return f"127.{128 + n // 256}.{n % 256}.0/24"

    def _take_ip(self, node: str) -> str:
        if node not in self._free_ips:
            base = self.pod_cidr(node).rsplit(".", 1)[0]
            self._free_ips[node] = [f"{base}.{i}" for i in range(254, 1, -1)]
        free = self._free_ips[node]
        if not free:
            raise RuntimeError(f"node {node} has no pod IP left")
        return free.pop()

    def _give_ip(self, node: str, ip: str) -> None:
        if node in self._free_ips and ip.startswith(self.pod_cidr(node).rsplit(".", 1)[0] + "."):
            self._free_ips[node].append(ip)

    # --- events ----------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if self._closed:
            return
        if event.kind in CONFIG_KINDS and event.type != "DELETED":
            self._nudge_waiting(event.obj["metadata"].get("namespace", ""))
            return
        if event.kind is not kinds.PODS:
            return
        pod = event.obj
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        runtime = self._runtimes.get(key)
        if event.type == "DELETED":
            if runtime is not None and runtime.task is not None:
                runtime.commands.put_nowait(("vanished", None))
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or node in self._dead_nodes:
            return
        if pod["metadata"].get("deletionTimestamp"):
            if runtime is not None:
                runtime.commands.put_nowait(("stop", pod["metadata"]["deletionGracePeriodSeconds"]))
            else:
                # Bound but never started (or already finished): nothing to stop.
                asyncio.get_running_loop().call_soon(self._store_remove, key)
            return
        if (
            runtime is None
            and (pod.get("status") or {}).get("phase") == "Pending"
            and not (pod.get("status") or {}).get("podIP")
        ):
            runtime = _Runtime(key, node, self._ip_for(pod, node))
            self._runtimes[key] = runtime
            runtime.task = asyncio.get_running_loop().create_task(
                self._run(runtime), name=f"kubelet:{key[0]}/{key[1]}"
            )

    def _nudge_waiting(self, namespace: str) -> None:
        """Wake the containers of `namespace` that wait for a Secret or ConfigMap; each
        gets one nudge per wait, so none is left queued once its wait ends."""
        for runtime in self._runtimes.values():
            if runtime.awaiting_config and runtime.key[0] == namespace:
                runtime.awaiting_config = False
                runtime.commands.put_nowait(("config", None))

    def _ip_for(self, pod: Obj, node: str) -> str:
        if (pod.get("spec") or {}).get("hostNetwork"):
            return self.host_ip(node)
        return self._take_ip(node)

    # --- commands from the admin API and the node controller -----------------------

    def crash(self, key: Key, exit_code: int = 1, reason: str = "Error") -> bool:
        runtime = self._runtimes.get(key)
        if runtime is None:
            return False
        runtime.commands.put_nowait(("crash", (exit_code, reason)))
        return True

    def evict(self, key: Key, message: str) -> bool:
        runtime = self._runtimes.get(key)
        if runtime is None:
            return False
        runtime.commands.put_nowait(("evict", message))
        return True

    async def node_lost(self, node: str) -> None:
        """The node is gone: its containers die with it, its kubelet reports nothing."""
        self._dead_nodes.add(node)
        doomed = [r for r in self._runtimes.values() if r.node == node]
        for runtime in doomed:
            runtime.commands.put_nowait(("lost", None))
        await asyncio.gather(*(r.task for r in doomed if r.task), return_exceptions=True)

    def container_pids(self) -> list[int]:
        """PIDs of the run containers' processes that are alive (zombies excluded), read
        from /proc so the answer is right even before the event loop reaps an exit."""
        pids = []
        for runtime in self._runtimes.values():
            if runtime.process is None:
                continue
            try:
                stat = Path(f"/proc/{runtime.process.pid}/stat").read_text()
            except OSError:
                continue
            if stat.rpartition(")")[2].split()[0] not in ("Z", "X"):
                pids.append(runtime.process.pid)
        return pids

    def logs(self, namespace: str, name: str) -> str:
        path = self._log_path((namespace, name))
        if path is None or not path.exists():
            return ""
        return path.read_text(encoding="utf-8", errors="replace")

    async def close(self) -> None:
        self._closed = True
        runtimes = list(self._runtimes.values())
        for runtime in runtimes:
            runtime.commands.put_nowait(("lost", None))
        await asyncio.gather(*(r.task for r in runtimes if r.task), return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    # --- one pod ---------------------------------------------------------------------

    def _update_status(self, key: Key, change: Any) -> Obj | None:
        """Apply `change(status) -> status` to the stored pod; None if it is gone."""
        pod = self._store.find(kinds.PODS, *key)
        if pod is None or self._closed:
            return None
        status = change(dict(pod.get("status") or {}))
        return self._store.update(kinds.PODS, {**pod, "status": status}, expected_version=None)

    async def _run(self, rt: _Runtime) -> None:
        try:
            await self._lifecycle(rt)
        finally:
            if rt.process is not None and rt.process.returncode is None:
                rt.process.signal(signal.SIGKILL)
                await rt.process.wait()
            self._runtimes.pop(rt.key, None)
            self._give_ip(rt.node, rt.ip)

    async def _lifecycle(self, rt: _Runtime) -> None:
        pod = self._store.find(kinds.PODS, *rt.key)
        if pod is None:
            return
        container = pod["spec"]["containers"][0]
        self._update_status(rt.key, lambda s: self._sandbox_status(s, pod, rt))
        argv = entrypoint(container, self.config.run_images)
        image = container.get("image", "")
        if image in self.config.unpullable_images or image_repository(image) in (
            self.config.unpullable_images
        ):
            await self._fail_pull(rt, container, image)
            return
        restarts = 0
        while True:
            if argv is None:
                outcome = await self._simulate(rt, container, restarts)
            else:
                outcome = await self._execute(rt, container, argv, restarts)
            kind, detail = outcome
            if kind in ("lost", "vanished"):
                return
            if kind == "stop":
                self._store_remove(rt.key)
                return
            if kind == "evict":
                self._update_status(rt.key, partial(_evicted, container=container, message=detail))
                return
            exit_code, reason = detail
            policy = pod["spec"].get("restartPolicy", "Always")
            if policy == "Never" or (policy == "OnFailure" and exit_code == 0):
                final = partial(
                    _terminated,
                    container=container,
                    exit_code=exit_code,
                    reason=reason,
                    restarts=restarts,
                    final=True,
                )
                self._update_status(rt.key, final)
                return
            restarts += 1
            crashed = partial(
                _terminated,
                container=container,
                exit_code=exit_code,
                reason=reason,
                restarts=restarts,
                final=False,
            )
            self._update_status(rt.key, crashed)
            command = await self._wait_command(rt, RESTART_BACKOFF_S)
            if command is not None and command[0] in ("lost", "vanished", "stop"):
                if command[0] == "stop":
                    self._store_remove(rt.key)
                return

    async def _fail_pull(self, rt: _Runtime, container: Obj, image: str) -> None:
        """ErrImagePull, then ImagePullBackOff, until the pod is deleted or lost."""
        message = f'Back-off pulling image "{image}"'
        self._update_status(
            rt.key,
            partial(_config_error, container=container, message=message, reason="ImagePullBackOff"),
        )
        while True:
            command = await self._wait_command(rt, None)
            if command is not None and command[0] in ("lost", "vanished", "stop"):
                if command[0] == "stop":
                    self._store_remove(rt.key)
                return

    def _store_remove(self, key: Key) -> None:
        if self._store.find(kinds.PODS, *key) is not None and not self._closed:
            self._store.remove(kinds.PODS, *key)

    def _sandbox_status(self, status: Obj, pod: Obj, rt: _Runtime) -> Obj:
        container = pod["spec"]["containers"][0]
        status.update(
            phase="Pending",
            hostIP=self.host_ip(rt.node),
            hostIPs=[{"ip": self.host_ip(rt.node)}],
            podIP=rt.ip,
            podIPs=[{"ip": rt.ip}],
            startTime=now_rfc3339(),
            containerStatuses=[
                _container_status(
                    container, {"waiting": {"reason": "ContainerCreating"}}, ready=False, restarts=0
                )
            ],
        )
        status = with_condition(status, "PodReadyToStartContainers", True)
        status = with_condition(status, "Initialized", True)
        status = with_condition(
            status,
            "ContainersReady",
            False,
            "ContainersNotReady",
            f"containers with unready status: [{container['name']}]",
        )
        return with_condition(
            status,
            "Ready",
            False,
            "ContainersNotReady",
            f"containers with unready status: [{container['name']}]",
        )

    async def _wait_command(
        self, rt: _Runtime, wait_s: float | None, *, wake_on_config: bool = False
    ) -> tuple[str, Any] | None:
        """The next command within `wait_s` (None: none came). A "config" nudge ends
        the wait only with `wake_on_config`; a late one is dropped."""
        loop = asyncio.get_running_loop()
        deadline = None if wait_s is None else loop.time() + wait_s
        while True:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                command = await asyncio.wait_for(rt.commands.get(), remaining)
            except TimeoutError:
                return None
            if command[0] != "config" or wake_on_config:
                return command

    async def _simulate(self, rt: _Runtime, container: Obj, restarts: int) -> tuple[str, Any]:
        env = await self._environment(rt, container)
        if isinstance(env, tuple):
            return env
        command = await self._wait_command(rt, self.config.ready_delay_s)
        if command is None:
            self._update_status(rt.key, lambda s: _running(s, container, True, restarts))
            command = await self._wait_command(rt, None)
        assert command is not None
        kind, detail = command
        if kind == "stop":
            await asyncio.sleep(min(self.config.stop_delay_s, float(detail)))
            return "stop", None
        if kind == "crash":
            return "exit", detail
        return kind, detail

    async def _execute(
        self, rt: _Runtime, container: Obj, argv: list[str], restarts: int
    ) -> tuple[str, Any]:
        env = await self._environment(rt, container)
        if isinstance(env, tuple):
            return env
        log_path = self._log_path(rt.key)
        assert log_path is not None
        expanded = [expand(arg, env) for arg in argv]
        base = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
        base["HOME"] = str(log_path.parent / f"{rt.key[0]}_{rt.key[1]}.home")
        try:
            rt.process = await ContainerProcess.start(
                expanded, {**base, **env}, log_path, Path(base["HOME"])
            )
        except OSError as exc:
            with log_path.open("a", encoding="utf-8") as log:
                log.write(f"kubesim: cannot start {expanded[0]!r}: {exc}\n")
            return "exit", (128, "StartError")
        self._update_status(rt.key, lambda s: _running(s, container, False, restarts))
        probe = asyncio.get_running_loop().create_task(self._probe(rt, container, restarts))
        exited = asyncio.get_running_loop().create_task(rt.process.wait())
        try:
            while True:
                getter = asyncio.get_running_loop().create_task(rt.commands.get())
                done, _ = await asyncio.wait({getter, exited}, return_when=asyncio.FIRST_COMPLETED)
                if exited in done:
                    getter.cancel()
                    code, _signal = exit_status(exited.result())
                    return "exit", (code, "Completed" if code == 0 else "Error")
                kind, detail = getter.result()
                if kind == "config":
                    continue  # a late nudge: the environment is already resolved
                if kind == "stop":
                    await rt.process.stop(float(detail))
                    return "stop", None
                if kind == "crash":
                    rt.process.signal(signal.SIGKILL)
                    await rt.process.wait()
                    return "exit", detail
                if kind == "evict":
                    rt.process.signal(signal.SIGKILL)
                    await rt.process.wait()
                    return "evict", detail
                rt.process.signal(signal.SIGKILL)
                await rt.process.wait()
                return kind, detail
        finally:
            probe.cancel()
            exited.cancel()
            await asyncio.gather(probe, exited, return_exceptions=True)

    async def _environment(self, rt: _Runtime, container: Obj) -> dict[str, str] | tuple[str, Any]:
        """Resolve env, reporting CreateContainerConfigError until references resolve;
        a command that arrives meanwhile (stop, lost) ends the wait instead."""
        while True:
            pod = self._store.find(kinds.PODS, *rt.key)
            if pod is None:
                return "vanished", None
            try:
                return container_env(pod, container, partial(self._lookup, rt.key[0]))
            except ContainerConfigError as exc:
                self._update_status(
                    rt.key, partial(_config_error, container=container, message=str(exc))
                )
            rt.awaiting_config = True
            command = await self._wait_command(rt, CONFIG_RETRY_S, wake_on_config=True)
            rt.awaiting_config = False
            if command is not None and command[0] in ("lost", "vanished", "stop", "evict"):
                return command[0], command[1]

    def _lookup(self, namespace: str, plural: str, name: str) -> Obj | None:
        return self._store.find(kinds.BY_PATH[("", "v1", plural)], namespace, name)

    async def _probe(self, rt: _Runtime, container: Obj, restarts: int) -> None:
        """The readinessProbe (httpGet only), flipping Ready as results change."""
        spec = container.get("readinessProbe")
        if not spec or "httpGet" not in spec:
            self._set_ready(rt, container, True, restarts)
            return
        get = spec["httpGet"]
        port = get.get("port")
        if isinstance(port, str):
            port = next(
                p["containerPort"] for p in container.get("ports") or [] if p.get("name") == port
            )
        url = (
            f"{get.get('scheme', 'HTTP').lower()}://{get.get('host') or rt.ip}:{port}"
            f"{get.get('path', '/')}"
        )
        period = max(0.05, float(spec.get("periodSeconds", 10)) * self.config.probe_period_scale)
        await asyncio.sleep(
            float(spec.get("initialDelaySeconds", 0)) * self.config.probe_period_scale
        )
        failures, threshold = 0, int(spec.get("failureThreshold", 3))
        timeout = float(spec.get("timeoutSeconds", 1))
        if self._http is None:
            self._http = httpx.AsyncClient(trust_env=False)
        while True:
            started = time.monotonic()
            try:
                response = await self._http.get(url, timeout=timeout)
                ok = 200 <= response.status_code < 400
            except httpx.HTTPError:
                ok = False
            if ok:
                failures = 0
                if not rt.ready:
                    self._set_ready(rt, container, True, restarts)
            else:
                failures += 1
                if rt.ready and failures >= threshold:
                    self._set_ready(rt, container, False, restarts)
            await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))

    def _set_ready(self, rt: _Runtime, container: Obj, ready: bool, restarts: int) -> None:
        rt.ready = ready
        self._update_status(rt.key, lambda s: _running(s, container, ready, restarts))

    def _log_path(self, key: Key) -> Path | None:
        if self.config.work_dir is None:
            return None
        self.config.work_dir.mkdir(parents=True, exist_ok=True)
        return self.config.work_dir / f"{key[0]}_{key[1]}.log"


# --- status documents (pure) -------------------------------------------------------------


def _container_status(
    container: Obj, state: Obj, *, ready: bool, restarts: int, last: Obj | None = None
) -> Obj:
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "containerID": f"kubesim://{container['name']}-{restarts}",
        "ready": ready,
        "started": "running" in state,
        "restartCount": restarts,
        "state": state,
        "lastState": last or {},
    }


def _running(status: Obj, container: Obj, ready: bool, restarts: int) -> Obj:
    previous = (status.get("containerStatuses") or [{}])[0]
    started_at = ((previous.get("state") or {}).get("running") or {}).get("startedAt")
    state = {"running": {"startedAt": started_at or now_rfc3339()}}
    status = {
        **status,
        "phase": "Running",
        "containerStatuses": [
            _container_status(
                container, state, ready=ready, restarts=restarts, last=previous.get("lastState")
            )
        ],
    }
    reason = None if ready else "ContainersNotReady"
    message = None if ready else f"containers with unready status: [{container['name']}]"
    status = with_condition(status, "ContainersReady", ready, reason, message)
    return with_condition(status, "Ready", ready, reason, message)


def _terminated(
    status: Obj, container: Obj, exit_code: int, reason: str, restarts: int, *, final: bool
) -> Obj:
    terminated = {
        "terminated": {"exitCode": exit_code, "reason": reason, "finishedAt": now_rfc3339()}
    }
    if final:
        state, last = terminated, {}
        phase = "Succeeded" if exit_code == 0 else "Failed"
    else:
        state = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off restarting failed container {container['name']}",
            }
        }
        last, phase = terminated, "Running"
    status = {
        **status,
        "phase": phase,
        "containerStatuses": [
            _container_status(container, state, ready=False, restarts=restarts, last=last)
        ],
    }
    message = f"containers with unready status: [{container['name']}]"
    status = with_condition(status, "ContainersReady", False, "ContainersNotReady", message)
    return with_condition(status, "Ready", False, "ContainersNotReady", message)


def _config_error(
    status: Obj, container: Obj, message: str, reason: str = "CreateContainerConfigError"
) -> Obj:
    waiting = {"waiting": {"reason": reason, "message": message}}
    return {
        **status,
        "containerStatuses": [_container_status(container, waiting, ready=False, restarts=0)],
    }


def _evicted(status: Obj, container: Obj, message: str) -> Obj:
    status = _terminated(status, container, 137, "Error", 0, final=True)
    status = {**status, "phase": "Failed", "reason": "Evicted", "message": message}
    return with_condition(status, "DisruptionTarget", True, "TerminationByKubelet", message)
