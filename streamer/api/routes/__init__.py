"""One router per audience: viewers (WHEP), probes and scrapers (health), the orchestrator
(control)."""
