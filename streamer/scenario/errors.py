"""What can go wrong while running a scenario, named by meaning.

The control API maps these to HTTP status at its edge (unknown event: 404, not running:
409); the runtime itself knows nothing about HTTP.
"""

from __future__ import annotations


class ScenarioRuntimeError(Exception):
    """A scenario cannot be set up or cannot take this command."""


class UnknownEventError(ScenarioRuntimeError):
    """The instructor fired an event the scenario does not define."""


class NotRunningError(ScenarioRuntimeError):
    """A command arrived before the scenario started or after it ended."""
