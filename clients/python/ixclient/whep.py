"""A WHEP client (draft-ietf-wish-whep): POST the offer, DELETE the resource."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx


class WhepError(Exception):
    """The server refused the session; `status` is its HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"WHEP {status}: {detail}")
        self.status = status
        self.detail = detail


class WhepSession:
    def __init__(self, url: str, token: str | None, timeout_s: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.resource_url: str | None = None
        self.close_error: str | None = None  # why the DELETE failed, when it did
        self._http = httpx.AsyncClient(timeout=timeout_s)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def offer(self, sdp: str) -> str:
        """Sends the offer; returns the answer and remembers the resource (Location)."""
        response = await self._http.post(
            self.url, content=sdp, headers={"Content-Type": "application/sdp", **self._headers()}
        )
        if response.status_code != 201:
            raise WhepError(response.status_code, response.text.strip())
        location = response.headers.get("Location")
        if not location:
            raise WhepError(response.status_code, "201 without a Location header")
        self.resource_url = urljoin(self.url, location)
        return response.text

    async def close(self) -> None:
        """Ends the session on the server (DELETE), then closes the HTTP client."""
        try:
            if self.resource_url is not None:
                await self._http.delete(self.resource_url, headers=self._headers())
                self.resource_url = None
        except httpx.HTTPError as exc:
            # The server may be gone (crashed, or it ended the session): nothing is left
            # to release there, but callers that report on the session should know.
            self.close_error = f"{type(exc).__name__}: {exc}"
        finally:
            await self._http.aclose()
