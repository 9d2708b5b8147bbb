"""Serving an app with open event streams, so that stopping it does not hang.

uvicorn stops in this order: stop accepting, let in-flight responses finish, then run
the lifespan's shutdown. An event stream never finishes by itself, so without help a
SIGTERM would wait on every open page until the pod's grace period ran out and the
sessions were never ended as `shutdown_policy` says. This server closes the app's feed
(`app.state.feed`) first: every stream ends, then uvicorn's own shutdown proceeds.
"""

from __future__ import annotations

import socket

import uvicorn

from orchestrator.feed.hub import EventFeed


class FeedAwareServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        feed = getattr(getattr(self.config.app, "state", None), "feed", None)
        if isinstance(feed, EventFeed):
            feed.close()
        await super().shutdown(sockets)
