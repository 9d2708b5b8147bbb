"""Learning records: xAPI 1.0.3 statements about training sessions, delivered to the
organisation's Learning Record Store (issue 11; docs/learning-records.md).

`settings` (what is configured, off by default), `vocabulary` (verbs and activity
types), `statements` (pure builders), `outbox` (statements on disk until the LRS has
them), `policy` (pure: what an LRS answer means, and how long to wait), `sender`
(the delivery task), `recorder` (the facts the service knows → statements) and
`records` (the one object the app's lifespan owns).
"""
