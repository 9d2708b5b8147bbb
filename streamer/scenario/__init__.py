"""Running training scenarios in the streamer (issue 6): triggers, effects, actors and
the timeline for the after-action log. Pure Python: the streamer feeds it head poses and
commands, and draws the `SceneState` it returns."""

from streamer.scenario.errors import NotRunningError, ScenarioRuntimeError, UnknownEventError
from streamer.scenario.geometry import Bounds, NodeBounds
from streamer.scenario.runtime import Entry, ScenarioRuntime

__all__ = [
    "Bounds",
    "Entry",
    "NodeBounds",
    "NotRunningError",
    "ScenarioRuntime",
    "ScenarioRuntimeError",
    "UnknownEventError",
]
