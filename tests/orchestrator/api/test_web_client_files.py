"""The web client is served at `/`; its test tooling (node_modules included) never is."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrator.api.routes.web import mount_web_client


def test_pages_are_served_and_test_tooling_is_not(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>IX Stream</h1>")
    (tmp_path / "test-support" / "node_modules").mkdir(parents=True)
    (tmp_path / "test-support" / "package.json").write_text("{}")
    app = FastAPI()
    mount_web_client(app, tmp_path)
    client = TestClient(app)
    assert "IX Stream" in client.get("/").text
    assert client.get("/test-support/package.json").status_code == 404
    assert client.get("/test-support/node_modules/").status_code == 404
