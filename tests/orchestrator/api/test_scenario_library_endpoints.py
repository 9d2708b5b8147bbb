"""The scenario library over the API: the catalogue lists its documents beside the
built-ins, a document reads back as JSON, the format's JSON Schema is served, and
instructors and operators (never trainees) upload or replace a document, which is
validated first (422 naming the line and field), size-limited (413), written whole and
audit-logged. Through the real app over ASGI, on a copy of the shipped library."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from ixstream.scenario import MAX_SCENARIO_BYTES
from orchestrator.identity import Role
from tests.orchestrator.conftest import ROOT, Harness, auth

MakeApp = Callable[..., AbstractAsyncContextManager[Harness]]
YAML = {"Content-Type": "application/yaml"}
TRAFFIC = (ROOT / "scenarios" / "traffic-stop-night.yaml").read_text(encoding="utf-8")


@asynccontextmanager
async def library_app(make_app: MakeApp, tmp_path: Path) -> AsyncIterator[Harness]:
    library = tmp_path / "library"
    shutil.copytree(ROOT / "scenarios", library)
    async with make_app(scenario_dir=library, scenes_dir=ROOT / "streamer" / "assets") as app:
        yield app


def instructor() -> dict[str, str]:
    return {**auth("ivy", Role.INSTRUCTOR), **YAML}


async def test_the_catalogue_lists_both_samples_after_the_built_ins(
    make_app: MakeApp, tmp_path: Path
) -> None:
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.get("/v1/scenarios", headers=auth())
    names = [s["name"] for s in response.json()]
    assert names[:2] == ["sample", "test-pattern"]
    assert {"traffic-stop-night", "gas-leak-warehouse"} <= set(names)
    traffic = next(s for s in response.json() if s["name"] == "traffic-stop-night")
    assert traffic["title"] == "Traffic stop at night"
    assert traffic["domain"] == "police"
    assert traffic["source"] == "scene"


async def test_a_document_reads_back_parsed_as_json(make_app: MakeApp, tmp_path: Path) -> None:
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.get("/v1/scenarios/gas-leak-warehouse", headers=auth())
        missing = await app.client.get("/v1/scenarios/moon-landing", headers=auth())
    assert response.status_code == 200
    assert response.json()["domain"] == "industrial_safety"
    assert response.json()["instructor_events"][0]["id"] == "coworker-freezes"
    assert missing.status_code == 404


async def test_the_json_schema_is_served(make_app: MakeApp, tmp_path: Path) -> None:
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.get("/v1/scenarios/schema", headers=auth())
    assert response.status_code == 200
    assert response.json()["$id"] == "urn:ixstream:scenario:format:1"


async def test_an_instructor_uploads_a_new_scenario_and_it_is_audit_logged(
    make_app: MakeApp, tmp_path: Path
) -> None:
    document = TRAFFIC.replace("id: traffic-stop-night", "id: night-stop")
    async with library_app(make_app, tmp_path) as app:
        created = await app.client.put(
            "/v1/scenarios/night-stop", content=document, headers=instructor()
        )
        replaced = await app.client.put(
            "/v1/scenarios/night-stop", content=document, headers=instructor()
        )
        listed = await app.client.get("/v1/scenarios", headers=auth())
        audit = app.settings.audit_path
    assert created.status_code == 201
    assert created.headers["Location"] == "/v1/scenarios/night-stop"
    assert replaced.status_code == 200
    assert (tmp_path / "library" / "night-stop.yaml").read_text(encoding="utf-8") == document
    assert "night-stop" in [s["name"] for s in listed.json()]
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    uploads = [r for r in records if r["action"] == "scenario.put"]
    assert [(r["actor"], r["scenario"], r["created"]) for r in uploads] == [
        ("ivy", "night-stop", True),
        ("ivy", "night-stop", False),
    ]


async def test_a_trainee_may_not_upload(make_app: MakeApp, tmp_path: Path) -> None:
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.put(
            "/v1/scenarios/traffic-stop-night", content=TRAFFIC, headers={**auth(), **YAML}
        )
    assert response.status_code == 403


async def test_a_broken_upload_is_refused_naming_line_and_field_and_the_old_one_stays(
    make_app: MakeApp, tmp_path: Path
) -> None:
    broken = TRAFFIC.replace("radius_m: 1.2", "radius_m: -1.2")
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.put(
            "/v1/scenarios/traffic-stop-night", content=broken, headers=instructor()
        )
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"].startswith(
        "traffic-stop-night.yaml:79: triggers[2].when.zone.radius_m: Input should be greater"
    )
    assert problem["errors"][0]["line"] == 79
    assert problem["errors"][0]["field"] == "triggers[2].when.zone.radius_m"
    assert (tmp_path / "library" / "traffic-stop-night.yaml").read_text() == TRAFFIC


async def test_an_upload_whose_id_differs_from_its_address_is_refused(
    make_app: MakeApp, tmp_path: Path
) -> None:
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.put(
            "/v1/scenarios/other", content=TRAFFIC, headers=instructor()
        )
    assert response.status_code == 422
    assert "traffic-stop-night.yaml" not in response.json()["detail"]
    assert "other.yaml:4: id: must be 'other'" in response.json()["detail"]


async def test_an_oversized_upload_is_refused_with_413(make_app: MakeApp, tmp_path: Path) -> None:
    huge = TRAFFIC + "#" * MAX_SCENARIO_BYTES
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.put(
            "/v1/scenarios/traffic-stop-night", content=huge, headers=instructor()
        )
    assert response.status_code == 413


async def test_an_upload_that_is_not_yaml_is_refused_with_415(
    make_app: MakeApp, tmp_path: Path
) -> None:
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.put(
            "/v1/scenarios/traffic-stop-night",
            content=TRAFFIC,
            headers={**auth("olga", Role.OPERATOR), "Content-Type": "text/plain"},
        )
    assert response.status_code == 415


async def test_a_billion_laughs_upload_is_refused_naming_its_line_and_stores_nothing(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """~600 bytes that expand to 387 million strings: refused from the node graph, so
    the orchestrator answers at once and goes on serving (it used to spin for ever)."""
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    rows += [
        f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    async with library_app(make_app, tmp_path) as app:
        response = await app.client.put(
            "/v1/scenarios/bomb", content="\n".join(rows), headers=instructor()
        )
        health = await app.client.get("/healthz")
        stored = await app.client.get("/v1/scenarios/bomb", headers=auth())
    assert response.status_code == 422
    assert response.json()["errors"][0]["line"] == 5
    assert "expands to more than" in response.json()["detail"]
    assert health.status_code == 200
    assert stored.status_code == 404
