"""The live feed: what changed, pushed to open pages as server-sent events (issue 11).

`wire.py` writes the text/event-stream format, `ring.py` keeps recent events for
resuming, `hub.py` fans events out to open streams under the access rules, and
`publisher.py` turns session changes into events. The route is
`orchestrator/api/routes/events.py`.
"""
