"""The web client at `/`: `clients/web/` once it has an `index.html`, else a minimal
built-in page."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

#: The repository's web client, when running from a checkout.
REPO_WEB_ROOT = Path(__file__).resolve().parents[3] / "clients" / "web"


#: Top-level folders of clients/web that are tooling, never served (node_modules lives there).
PRIVATE_FOLDERS = frozenset({"test-support"})


class WebClientFiles(StaticFiles):
    """Static files minus the test tooling folders."""

    async def get_response(self, path: str, scope: Any) -> Response:
        if path.split("/", 1)[0] in PRIVATE_FOLDERS:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def mount_web_client(app: FastAPI, web_root: Path | None) -> None:
    """Serve the web client; call after every API router (the mount matches all paths)."""
    root = web_root if web_root is not None else REPO_WEB_ROOT
    if (root / "index.html").is_file():
        app.mount("/", WebClientFiles(directory=root, html=True), name="web")
        return
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        page = resources.files("orchestrator").joinpath("static/index.html").read_text("utf-8")
        return HTMLResponse(page)

    app.include_router(router)
