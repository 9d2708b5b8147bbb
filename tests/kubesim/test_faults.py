"""The simulator misbehaves on purpose, as an API server under load does: 429 with
`Retry-After`, 5xx (before or after applying the write), slow answers, watch
connections dropped or gone silent; and its watches see objects enter and leave their
selector as ADDED and DELETED, as the real watch cache reports them. Faults are set
over the simulator's HTTP admin endpoint and checked over plain HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubesim.serve import RunningSimulator
from tests.kubesim.harness import NAMESPACE, cluster, fault_plan, inject, simulated

PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"


def pod(name: str, state: str = "warm") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "ixstream", "state": state}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[RunningSimulator]:
    async with simulated(
        cluster(nodes=1), tmp_path, enforce_role=False, bookmark_interval_s=0.05
    ) as running:
        yield running


@pytest.fixture
async def http(sim: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sim.url,
        headers={"Authorization": f"Bearer {sim.token}"},
        trust_env=False,
        timeout=10,
    ) as client:
        yield client


async def test_a_busy_answer_carries_retry_after_and_hits_only_what_it_names(
    sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    await inject(sim, {"verb": "create", "resource": "pods", "status": 429, "retryAfterSeconds": 3})
    assert (await http.get(PODS)).status_code == 200  # a list is not a create
    refused = await http.post(PODS, json=pod("a"))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3"
    status = refused.json()
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "TooManyRequests", 429)
    assert status["details"]["retryAfterSeconds"] == 3
    assert (await http.get(f"{PODS}/a")).status_code == 404  # refused: not applied
    assert (await http.post(PODS, json=pod("a"))).status_code == 201  # `times` was 1
    assert [rule["hits"] for rule in await fault_plan(sim)] == [1]


@pytest.mark.parametrize(("code", "reason"), [(500, "InternalError"), (503, "ServiceUnavailable")])
async def test_server_errors_answer_with_their_status_reason(
    sim: RunningSimulator, http: httpx.AsyncClient, code: int, reason: str
) -> None:
    await inject(sim, {"verb": "get", "status": code, "times": 2})
    for _ in range(2):
        answer = await http.get(f"{PODS}/nothing")
        assert (answer.status_code, answer.json()["reason"]) == (code, reason)
    assert (await http.get(f"{PODS}/nothing")).status_code == 404


async def test_a_committed_write_whose_answer_is_lost_has_taken_effect(
    sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    await inject(sim, {"verb": "create", "resource": "pods", "status": 504, "commit": True})
    lost = await http.post(PODS, json=pod("b"))
    assert (lost.status_code, lost.json()["reason"]) == (504, "Timeout")
    assert (await http.get(f"{PODS}/b")).status_code == 200


async def test_a_slow_answer_comes_late_but_right(
    sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    await inject(sim, {"verb": "list", "delaySeconds": 0.3})
    started = time.monotonic()
    answer = await http.get(PODS)
    assert time.monotonic() - started >= 0.3
    assert answer.json()["kind"] == "PodList"


async def watch_lines(
    http: httpx.AsyncClient, read_timeout_s: float, into: list[dict[str, Any]]
) -> None:
    """Read a watch (bookmarks on) into `into` until it ends or fails."""
    params = {"watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": "30"}
    timeout = httpx.Timeout(10, read=read_timeout_s)
    async with http.stream("GET", PODS, params=params, timeout=timeout) as response:
        async for line in response.aiter_lines():
            if line.strip():
                into.append(json.loads(line))


async def test_a_dropped_watch_loses_its_connection_after_the_events_it_was_given(
    sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    for name in ("p1", "p2", "p3"):
        await http.post(PODS, json=pod(name))
    await inject(sim, {"verb": "watch", "watch": "drop", "afterEvents": 2})
    events: list[dict[str, Any]] = []
    with pytest.raises(httpx.RemoteProtocolError):
        await watch_lines(http, 5.0, events)
    assert [e["object"]["metadata"]["name"] for e in events] == ["p1", "p2"]


async def test_a_silent_watch_stays_open_and_sends_nothing_not_even_bookmarks(
    sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    await http.post(PODS, json=pod("p1"))
    await inject(sim, {"verb": "watch", "watch": "silent", "afterEvents": 1})
    events: list[dict[str, Any]] = []
    with pytest.raises(httpx.ReadTimeout):
        # Bookmarks come every 0.05 s on a healthy watch: 0.5 s of nothing is silence.
        await watch_lines(http, 0.5, events)
    assert [e["type"] for e in events] == ["ADDED"]


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ({"status": 418}, "status must be one of"),
        ({"colour": "red"}, "unknown fault fields ['colour']"),
        ({"watch": "sulk"}, "watch must be"),
        ({"verb": "get", "watch": "drop"}, "verb 'watch' only"),
        ({"times": -1}, "times must not be negative"),
        ({"probability": 0}, "probability must be in"),
        ({"commit": True}, "commit needs a status"),
        ({"delaySeconds": "soon"}, "delaySeconds must be a number"),
    ],
)
async def test_a_bad_rule_is_refused_precisely_and_the_plan_is_unchanged(
    sim: RunningSimulator, http: httpx.AsyncClient, rule: dict[str, Any], complaint: str
) -> None:
    await inject(sim, {"verb": "get", "status": 503})
    answer = await http.post("/_sim/faults", json={"faults": [{"verb": "list"}, rule]})
    assert answer.status_code == 400
    assert complaint in answer.json()["message"]
    assert [r["verb"] for r in await fault_plan(sim)] == ["get"]


async def test_clearing_the_plan_ends_every_fault(
    sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    await inject(sim, {"status": 503, "times": None})
    assert (await http.get(PODS)).status_code == 503
    assert (await http.delete("/_sim/faults")).json() == {"faults": []}
    assert (await http.get(PODS)).status_code == 200


async def test_objects_entering_and_leaving_a_selector_are_added_and_deleted(
    http: httpx.AsyncClient,
) -> None:
    # ConfigMaps: no controller of the simulator writes them, so every event is ours.
    maps = f"/api/v1/namespaces/{NAMESPACE}/configmaps"

    def config_map(name: str, state: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "labels": {"state": state}}, "data": {}}

    version = (await http.get(maps)).json()["metadata"]["resourceVersion"]
    await http.post(maps, json=config_map("w", "warm"))
    await http.post(maps, json=config_map("never", "bound"))
    merge = {"Content-Type": "application/merge-patch+json"}
    for state in ("bound", "warm"):
        patch = {"metadata": {"labels": {"state": state}}}
        await http.patch(f"{maps}/w", content=json.dumps(patch), headers=merge)
    touched = await http.patch(f"{maps}/w", content=json.dumps({"data": {"a": "b"}}), headers=merge)
    await http.delete(f"{maps}/w")
    params = {
        "watch": "true",
        "resourceVersion": version,
        "labelSelector": "state=warm",
        "timeoutSeconds": "1",
    }
    answer = await http.get(maps, params=params)
    events = [json.loads(line) for line in answer.text.splitlines() if line.strip()]
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [
        ("ADDED", "w"),
        ("DELETED", "w"),  # left the selector (bound)
        ("ADDED", "w"),  # came back (warm)
        ("MODIFIED", "w"),
        ("DELETED", "w"),
    ]
    left = events[1]["object"]["metadata"]
    # The object as the watch last matched it, at the version of the change that took it away.
    assert left["labels"]["state"] == "warm"
    assert int(left["resourceVersion"]) > int(events[0]["object"]["metadata"]["resourceVersion"])
    modified = events[3]["object"]
    assert modified["metadata"]["resourceVersion"] == touched.json()["metadata"]["resourceVersion"]
    assert modified["data"] == {"a": "b"}
