"""Training scenarios as the orchestrator handles them.

`catalogue` says which scenarios a session can ask for; `library` keeps the instructors'
documents; `link` carries a session's scenario to its streamer and back (`control_client`
is the HTTP client for the streamer's control API); `aar` keeps after-action logs and
`recordings` the recorded streams, after the session is gone.
"""
