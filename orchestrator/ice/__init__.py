"""ICE configuration handed out by the orchestrator: which STUN/TURN servers a browser
(and, on Kubernetes, a streamer pod) uses, with short-lived TURN credentials minted
per session. Both backends use it; the API puts the result in every response that
hands a browser a WHEP URL."""
