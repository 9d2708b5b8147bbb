"""`GET /v1/me` says who the caller is as the server reads their token, whatever claim
holds the role; `GET /v1/scenarios` gives each scenario a title and a description.
Both through the real app (its lifespan, the local backend), over ASGI."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import jwt

from orchestrator.identity import Role
from tests.orchestrator.conftest import API_SECRET, AUDIENCE, Harness, auth


async def test_me_returns_the_callers_subject_and_role(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app() as app:
        response = await app.client.get("/v1/me", headers=auth("ivy", Role.INSTRUCTOR))
        assert response.status_code == 200
        assert response.json() == {"subject": "ivy", "role": "instructor"}


async def test_me_reads_the_role_from_the_configured_claim_and_refuses_an_ambiguous_one(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    def token(groups: list[str]) -> dict[str, str]:
        claims = {"sub": "olga", "aud": AUDIENCE, "exp": int(time.time()) + 600, "groups": groups}
        return {"Authorization": f"Bearer {jwt.encode(claims, API_SECRET, algorithm='HS256')}"}

    async with make_app(role_claim="groups") as app:
        one = await app.client.get("/v1/me", headers=token(["operator", "all-staff"]))
        both = await app.client.get("/v1/me", headers=token(["trainee", "operator"]))
    assert one.json() == {"subject": "olga", "role": "operator"}
    assert both.status_code == 403
    assert "several roles (trainee, operator)" in both.json()["detail"]
    async with make_app(role_claim="groups", multiple_roles="most") as app:
        chosen = await app.client.get("/v1/me", headers=token(["trainee", "operator"]))
    assert chosen.json() == {"subject": "olga", "role": "operator"}


async def test_me_refuses_a_caller_without_a_token(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]],
) -> None:
    async with make_app() as app:
        response = await app.client.get("/v1/me")
        assert response.status_code == 401


async def test_every_scenario_has_a_title_and_a_scene_its_authors_description(
    make_app: Callable[..., AbstractAsyncContextManager[Harness]], tmp_path: Path
) -> None:
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "fire-drill.glb").write_bytes(b"glTF")
    (scenes / "fire-drill.txt").write_text("Fire drill\nEvacuate the ward in order.\n")
    (scenes / "loading_bay.glb").write_bytes(b"glTF")
    async with make_app(scenes_dir=scenes) as app:
        response = await app.client.get("/v1/scenarios", headers=auth())
    by_name = {s["name"]: s for s in response.json()}
    assert by_name["fire-drill"]["title"] == "Fire drill"
    assert by_name["fire-drill"]["description"] == "Evacuate the ward in order."
    assert by_name["loading_bay"]["title"] == "Loading bay"
    assert by_name["loading_bay"]["description"] is None
    assert by_name["sample"]["title"] == "Sample training room"
    assert by_name["sample"]["description"]
    assert by_name["test-pattern"]["title"] == "Test pattern"
