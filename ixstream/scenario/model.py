"""The scenario format, version 1: one declarative document per training scenario.

A scenario says what the trainee learns (title, domain, objectives, duration), where
(glTF scenes, a start point), with what (interactive objects, actors walking paths) and
what happens when (triggers and their effects). It is data, not code, so an instructor
can write one in an editor with the published JSON Schema and no programming; both the
orchestrator (library, API) and the streamer's runtime read it through these models.

Every model forbids unknown fields (a misspelt key is an error, not silently ignored)
and references between parts are checked here, with the location of the bad reference,
so a document that validates can be run without further checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

FORMAT_VERSION = 1

Slug = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="An id: lower-case letters, digits, `-` and `_`, at most 63 characters.",
    ),
]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Vec3 = Annotated[
    tuple[Finite, Finite, Finite],
    Field(description="A position in metres, glTF axes: x right, y up, z towards the viewer."),
]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- where -------------------------------------------------------------------------


class Scene(_Part):
    """A glTF 2.0 file the scenario takes place in."""

    id: Slug
    path: str = Field(
        pattern=r"^[A-Za-z0-9_./-]+\.(glb|gltf)$",
        description="The scene file, relative to the scenes folder (`.glb` or `.gltf`).",
    )
    pending: bool = Field(
        default=False,
        description="True while the scene file is still being made: a missing file is then "
        "tolerated, and the scenario cannot run yet.",
    )


class StartPoint(_Part):
    """Where the trainee stands when the scenario begins."""

    position: Vec3
    yaw_deg: Finite = Field(
        default=0, ge=-180, le=180, description="Heading, degrees about +y (0 looks down -z)."
    )


class InteractiveObject(_Part):
    """A node of the scene that triggers watch or effects change."""

    id: Slug
    node: str = Field(min_length=1, max_length=200, description="The glTF node's name.")
    kind: Literal["prop", "light", "door", "vehicle"] = Field(
        default="prop", description="`light` objects can be switched and flashed."
    )
    label: str | None = Field(default=None, max_length=120, description="For the instructor.")
    visible: bool = Field(default=True, description="Shown when the scenario begins.")
    lit: bool = Field(
        default=True, description="For `light` objects: switched on when the scenario begins."
    )


class WaypointPath(_Part):
    """A route an actor walks or drives, point to point."""

    id: Slug
    points: list[Vec3] = Field(min_length=1, description="Waypoints, in order.")
    loop: bool = Field(default=False, description="Go back to the first point at the end.")


class Idle(_Part):
    """Stands where the scene put it."""

    kind: Literal["idle"]


class FollowPath(_Part):
    """Walks (or drives) a path from the start, at a steady speed."""

    kind: Literal["follow_path"]
    path: Slug = Field(description="The id of a path in `paths`.")
    speed_m_s: Finite = Field(default=1.4, gt=0, le=50, description="Speed, metres per second.")


Behaviour = Annotated[Idle | FollowPath, Field(discriminator="kind")]


class Actor(_Part):
    """A person or vehicle with a simple behaviour."""

    id: Slug
    node: str = Field(min_length=1, max_length=200, description="The glTF node's name.")
    label: str | None = Field(default=None, max_length=120)
    behaviour: Behaviour = Field(default_factory=lambda: Idle(kind="idle"))


class InstructorEvent(_Part):
    """A button on the instructor's console that triggers can wait for."""

    id: Slug
    label: str = Field(min_length=1, max_length=80, description="The button's text.")
    description: str | None = Field(default=None, max_length=500)


# --- when --------------------------------------------------------------------------


class Zone(_Part):
    """A circle on the floor plan: the trainee is in it while standing within `radius_m`
    of `center`, measured horizontally (x and z; height is ignored, so a zone drawn on
    the floor works for a trainee of any height, seated or standing)."""

    center: Vec3
    radius_m: Finite = Field(gt=0, le=1000, description="Radius, metres, on the floor plan.")


class TimeElapsed(_Part):
    """Fires a set time after the scenario began."""

    kind: Literal["time_elapsed"]
    after_s: Finite = Field(ge=0, le=86400, description="Seconds after the scenario began.")


class EntersZone(_Part):
    """Fires when the trainee steps into a zone (again each time, unless `once`)."""

    kind: Literal["enters_zone"]
    zone: Zone


class LooksAt(_Part):
    """Fires when the trainee has looked at an object long enough."""

    kind: Literal["looks_at"]
    object: Slug = Field(description="The id of an object in `objects`.")
    dwell_s: Finite = Field(default=1.0, ge=0, le=60, description="Seconds of looking.")
    max_angle_deg: Finite = Field(
        default=10, gt=0, le=90, description="Largest angle between gaze and object, degrees."
    )


class ActsOn(_Part):
    """Fires when the trainee uses, grabs or touches an object."""

    kind: Literal["acts_on"]
    object: Slug = Field(description="The id of an object in `objects`.")
    action: Literal["use", "grab", "touch"] = "use"


class InstructorSignal(_Part):
    """Fires when the instructor presses an event's button."""

    kind: Literal["instructor_event"]
    event: Slug = Field(description="The id of an event in `instructor_events`.")


Condition = Annotated[
    TimeElapsed | EntersZone | LooksAt | ActsOn | InstructorSignal, Field(discriminator="kind")
]


# --- what happens -------------------------------------------------------------------


class ShowObject(_Part):
    """Makes an object visible."""

    do: Literal["show"]
    object: Slug


class HideObject(_Part):
    """Makes an object invisible."""

    do: Literal["hide"]
    object: Slug


class SwitchLight(_Part):
    """Switches a light on or off."""

    do: Literal["switch_light"]
    object: Slug = Field(description="The id of a `light` object.")
    lit: bool = Field(description="True switches the light on, false off.")


class FlashLight(_Part):
    """Flashes a light (strobes, alarms)."""

    do: Literal["flash_light"]
    object: Slug = Field(description="The id of a `light` object.")
    period_s: Finite = Field(default=0.5, gt=0, le=10, description="One on-off cycle, seconds.")
    for_s: Finite | None = Field(default=None, gt=0, description="Stop after, seconds; null: on.")


class MoveActor(_Part):
    """Sends an actor along a path."""

    do: Literal["move_actor"]
    actor: Slug
    path: Slug


class SetFog(_Part):
    """Changes the fog or smoke density, at once or gradually."""

    do: Literal["set_fog"]
    density: Finite = Field(ge=0, le=1, description="0 clear air, 1 nothing visible.")
    over_s: Finite = Field(default=0, ge=0, le=600, description="Transition time, seconds.")


class Caption(_Part):
    """Shows the trainee a line of text."""

    do: Literal["caption"]
    text: Text
    for_s: Finite = Field(default=5, gt=0, le=120, description="Shown for, seconds.")


class EndScenario(_Part):
    """Ends the run with an outcome the instructor reviews."""

    do: Literal["end"]
    outcome: Literal["success", "partial", "failure"]
    message: str | None = Field(default=None, max_length=500)


Effect = Annotated[
    ShowObject | HideObject | SwitchLight | FlashLight | MoveActor | SetFog | Caption | EndScenario,
    Field(discriminator="do"),
]


class Trigger(_Part):
    """When `when` holds, run `then`, in order."""

    id: Slug
    when: Condition
    then: list[Effect] = Field(min_length=1)
    once: bool = Field(default=True, description="Fire at most once per run.")


# --- the document -------------------------------------------------------------------


class Scenario(_Part):
    """One training scenario (format 1)."""

    format: Literal[1] = Field(description="The format version; this document is version 1.")
    id: Slug
    title: str = Field(min_length=1, max_length=120)
    domain: Literal["police", "fire", "industrial_safety", "medical", "other"]
    phase: Literal["preparation", "daily_operations", "incident_response"] = Field(
        description="Which part of the job it trains."
    )
    summary: str | None = Field(default=None, max_length=2000, description="For the catalogue.")
    objectives: list[Text] = Field(min_length=1, description="What the trainee should learn.")
    expected_duration_min: Finite = Field(gt=0, le=480, description="Minutes.")
    scenes: list[Scene] = Field(min_length=1)
    start: StartPoint
    objects: list[InteractiveObject] = Field(default_factory=list)
    paths: list[WaypointPath] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    instructor_events: list[InstructorEvent] = Field(default_factory=list)
    triggers: list[Trigger] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        problems = list(reference_problems(self))
        if problems:
            raise ValidationError.from_exception_data("Scenario", problems)
        return self


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


def _duplicates(field: str, items: Sequence[_Identified]) -> Iterable[InitErrorDetails]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            yield _problem((field, i, "id"), item.id, f"duplicate id {item.id!r} in {field}")
        seen.add(item.id)


def _problem(loc: tuple[str | int, ...], value: object, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("reference", message), loc=loc, input=value)


def reference_problems(scenario: Scenario) -> Iterable[InitErrorDetails]:
    """Duplicate ids, and every reference to an id that is not defined (or not of the
    kind the reference needs), each located at the field that holds it."""
    for field in ("scenes", "objects", "paths", "actors", "instructor_events", "triggers"):
        yield from _duplicates(field, getattr(scenario, field))
    objects = {o.id: o for o in scenario.objects}
    paths = {p.id for p in scenario.paths}
    actors = {a.id for a in scenario.actors}
    events = {e.id for e in scenario.instructor_events}

    def unknown(
        loc: tuple[str | int, ...], value: str, known: Iterable[str], what: str
    ) -> InitErrorDetails | None:
        if value in known:
            return None
        return _problem(loc, value, f"no {what} named {value!r}")

    found: list[InitErrorDetails | None] = []
    for i, actor in enumerate(scenario.actors):
        if isinstance(actor.behaviour, FollowPath):
            loc = ("actors", i, "behaviour", "path")
            found.append(unknown(loc, actor.behaviour.path, paths, "path"))
    for t, trigger in enumerate(scenario.triggers):
        when = trigger.when
        if isinstance(when, LooksAt | ActsOn):
            found.append(unknown(("triggers", t, "when", "object"), when.object, objects, "object"))
        if isinstance(when, InstructorSignal):
            loc = ("triggers", t, "when", "event")
            found.append(unknown(loc, when.event, events, "instructor event"))
        for e, effect in enumerate(trigger.then):
            at: tuple[str | int, ...] = ("triggers", t, "then", e)
            if isinstance(effect, ShowObject | HideObject | SwitchLight | FlashLight):
                found.append(unknown((*at, "object"), effect.object, objects, "object"))
                light = objects.get(effect.object)
                if isinstance(effect, SwitchLight | FlashLight) and light and light.kind != "light":
                    message = f"object {effect.object!r} is a {light.kind}, not a light"
                    found.append(_problem((*at, "object"), effect.object, message))
            if isinstance(effect, MoveActor):
                found.append(unknown((*at, "actor"), effect.actor, actors, "actor"))
                found.append(unknown((*at, "path"), effect.path, paths, "path"))
    yield from (p for p in found if p is not None)
