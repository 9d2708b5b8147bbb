"""The scenario runtime: runs one scenario document against a trainee's head pose.

The streamer owns one per session. It calls `start` when the first trainee connects,
`step` every frame with the head pose, `act` when the trainee uses something, and the
instructor commands when the control API receives them; each returns the timeline
entries it produced, for the after-action log. `scene_state` says what to draw.

No GL, no asyncio, no threads, no clock of its own: `now` (monotonic seconds) comes in
with every call and everything is a pure function of scenario time, so the runtime is
deterministic and a test can fast-forward it by passing a later `now`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ixstream.pose import Pose, Vec3
from ixstream.scenario.model import EndScenario, FollowPath, Idle, MoveActor, Scenario
from streamer.render.source import SceneState
from streamer.scenario.actors import DEFAULT_SPEED_M_S, ActorMotion
from streamer.scenario.clock import ScenarioClock
from streamer.scenario.effects import SceneEffects
from streamer.scenario.errors import NotRunningError, ScenarioRuntimeError, UnknownEventError
from streamer.scenario.geometry import NodeBounds, as_bounds, bottom_centre, centre, gaze_target
from streamer.scenario.triggers import TriggerWatch

Entry = dict[str, object]
"""One timeline entry, JSON-able: always "t" (scenario seconds, 3 decimals) and "kind"."""

POSE_HZ: Final = 5.0  # head poses logged per second of scenario time: enough to replay a walk
OUTCOMES: Final = ("success", "partial", "failure")
ACTIONS: Final = ("use", "grab", "touch")


def _entry(t: float, kind: str, **fields: object) -> Entry:
    return {"t": round(t, 3), "kind": kind, **fields}


class ScenarioRuntime:
    """One run of one scenario; see the module docstring for who calls what, and when."""

    def __init__(self, scenario: Scenario, bounds: Mapping[str, NodeBounds]) -> None:
        """`bounds`: world boxes keyed by glTF node name (`SceneGeometry.node_bounds`);
        every object's and actor's node must be there, so a scenario written for another
        scene fails here, before a trainee connects, rather than silently doing nothing."""
        _check_nodes(scenario, bounds)
        self.scenario = scenario
        self._centres: dict[str, Vec3] = {
            o.id: centre(as_bounds(*bounds[o.node])) for o in scenario.objects
        }
        self._object_nodes = {o.id: o.node for o in scenario.objects}
        self._actors = {a.id: _motion(a.node, a.behaviour, bounds) for a in scenario.actors}
        self._paths = {p.id: p for p in scenario.paths}
        self._events = {e.id for e in scenario.instructor_events}
        self._effects = SceneEffects.initial(scenario.objects)
        self._watches = [TriggerWatch(trigger) for trigger in scenario.triggers]
        self._clock = ScenarioClock()
        self._fired: list[str] = []
        self._pose_slot: int | None = None
        self.outcome: str | None = None
        self.message: str | None = None
        nodes = [o.node for o in scenario.objects] + [a.node for a in scenario.actors]
        self.dynamic_nodes: tuple[str, ...] = tuple(dict.fromkeys(nodes))
        lights = (o.node for o in scenario.objects if o.kind == "light")
        self.dynamic_lights: tuple[str, ...] = tuple(dict.fromkeys(lights))

    @property
    def started(self) -> bool:
        return self._clock.started

    @property
    def paused(self) -> bool:
        return self._clock.paused

    # --- the trainee's side ---------------------------------------------------------

    def start(self, now: float) -> list[Entry]:
        """Scenario time 0: `follow_path` actors set off."""
        if self.started:
            raise ScenarioRuntimeError(f"scenario {self.scenario.id!r} has already started")
        self._clock.start(now)
        for actor in self.scenario.actors:
            if isinstance(actor.behaviour, FollowPath):
                path = self._paths[actor.behaviour.path]
                self._actors[actor.id].walk_to(path.points, path.loop, 0.0)
        return [
            _entry(0.0, "scenario_started", scenario=self.scenario.id, title=self.scenario.title)
        ]

    def step(self, now: float, head: Pose) -> list[Entry]:
        """One frame: log the pose when due and fire the per-frame triggers, in order.

        Does nothing while paused (time stands still, so nothing can become true) or once
        ended (nothing fires after `end`), so the streamer may call it every frame.
        """
        self._require_started()
        if self.paused or self.outcome is not None:
            return []
        t = self._clock.t(now)
        entries = self._pose_entry(t, head)
        for watch in self._watches:
            if self.outcome is not None:
                break
            if not watch.spent and watch.frame(t, head, self._locate):
                entries += self._fire(watch, t)
        return entries

    def act(self, now: float, head: Pose, action: str, object_id: str | None) -> list[Entry]:
        """The trainee used, grabbed or touched `object_id`, or (None) what they look at.

        The act is logged even while paused, as what the trainee did, but fires nothing:
        the scenario is frozen.
        """
        self._require_running()
        if action not in ACTIONS:
            raise ValueError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        t = self._clock.t(now)
        target = object_id if object_id is not None else gaze_target(head, self._visible_centres())
        entries = [_entry(t, "act", object=target, action=action)]
        if self.paused:
            return entries
        for watch in self._watches:
            if self.outcome is None and watch.matches_act(target, action):
                entries += self._fire(watch, t)
        return entries

    # --- the instructor's side ------------------------------------------------------

    def instructor_event(self, now: float, event_id: str, by: str) -> list[Entry]:
        """Fire the triggers waiting for `event_id`, even while paused: the instructor
        may set up what the trainee meets on resuming."""
        self._require_running()
        if event_id not in self._events:
            known = ", ".join(sorted(self._events)) or "none"
            raise UnknownEventError(
                f"scenario {self.scenario.id!r} has no instructor event {event_id!r} "
                f"(it has: {known})"
            )
        t = self._clock.t(now)
        entries = [_entry(t, "instructor", action="event", event=event_id, by=by)]
        for watch in self._watches:
            if self.outcome is None and watch.matches_event(event_id):
                entries += self._fire(watch, t)
        return entries

    def pause(self, now: float, by: str) -> list[Entry]:
        """Freeze scenario time; pausing a paused scenario logs the command only."""
        self._require_running()
        entries = [_entry(self._clock.t(now), "instructor", action="pause", by=by)]
        if not self.paused:
            self._clock.pause(now)
            entries.append(_entry(self._clock.t(now), "paused", by=by))
        return entries

    def resume(self, now: float, by: str) -> list[Entry]:
        """Let scenario time run again from where it stopped."""
        self._require_running()
        entries = [_entry(self._clock.t(now), "instructor", action="resume", by=by)]
        if self.paused:
            self._clock.resume(now)
            entries.append(_entry(self._clock.t(now), "resumed", by=by))
        return entries

    def end(self, now: float, outcome: str, message: str | None, by: str) -> list[Entry]:
        """End the run with the instructor's verdict."""
        self._require_running()
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        t = self._clock.t(now)
        return [
            _entry(t, "instructor", action="end", by=by),
            *self._finish(t, outcome, message, by),
        ]

    # --- what to show ---------------------------------------------------------------

    def scene_state(self, now: float) -> SceneState:
        """What the renderer draws at `now`: as authored before the start, frozen after
        the end."""
        t = self._clock.t(now)
        hidden = frozenset(
            self._object_nodes[oid] for oid, shown in self._effects.visible.items() if not shown
        )
        gains = {
            self._object_nodes[oid]: light.gain(t) for oid, light in self._effects.lights.items()
        }
        return SceneState(
            hidden=hidden,
            offsets={actor.node: actor.offset(t) for actor in self._actors.values()},
            light_gains=gains,
            fog_density=self._effects.fog.density(t),
        )

    def caption(self, now: float) -> str | None:
        """The caption on screen at `now` (it stays, frozen, after the end)."""
        return self._effects.caption_at(self._clock.t(now))

    def snapshot(self, now: float) -> dict[str, object]:
        """The run at a glance, for the instructor's console (JSON-able)."""
        t = self._clock.t(now)
        return {
            "scenario": self.scenario.id,
            "title": self.scenario.title,
            "started": self.started,
            "paused": self.paused,
            "t": round(t, 3),
            "outcome": self.outcome,
            "message": self.message,
            "fired": list(self._fired),
            "caption": self._effects.caption_at(t),
            "fog_density": round(self._effects.fog.density(t), 6),
            "instructor_events": [
                {"id": e.id, "label": e.label} for e in self.scenario.instructor_events
            ],
        }

    # --- inside ---------------------------------------------------------------------

    def _fire(self, watch: TriggerWatch, t: float) -> list[Entry]:
        """Run a trigger's effects in order; an `end` among them stops the rest."""
        trigger = watch.trigger
        watch.fired += 1
        self._fired.append(trigger.id)
        entries = [_entry(t, "trigger_fired", trigger=trigger.id, cause=watch.cause)]
        for effect in trigger.then:
            entries.append(
                _entry(t, "effect", trigger=trigger.id, **effect.model_dump(mode="json"))
            )
            if isinstance(effect, EndScenario):
                by = f"trigger:{trigger.id}"
                entries += self._finish(t, effect.outcome, effect.message, by)
                break
            if isinstance(effect, MoveActor):
                path = self._paths[effect.path]
                self._actors[effect.actor].walk_to(path.points, path.loop, t)
            else:
                self._effects.apply(effect, t)
        return entries

    def _finish(self, t: float, outcome: str, message: str | None, by: str) -> list[Entry]:
        self._clock.stop(t)
        self.outcome, self.message = outcome, message
        return [_entry(t, "scenario_ended", outcome=outcome, message=message, by=by)]

    def _pose_entry(self, t: float, head: Pose) -> list[Entry]:
        """A pose entry when `t` has entered a new 1/POSE_HZ slot: an even rate whatever
        the frame rate, and in scenario time, so a pause logs nothing."""
        slot = int(t * POSE_HZ + 1e-9)
        if slot == self._pose_slot:
            return []
        self._pose_slot = slot
        p = [round(v, 3) for v in head.position]
        q = [round(v, 4) for v in head.orientation]
        return [_entry(t, "pose", p=p, q=q)]

    def _locate(self, object_id: str) -> Vec3 | None:
        return self._centres[object_id] if self._effects.visible[object_id] else None

    def _visible_centres(self) -> dict[str, Vec3]:
        """Objects the trainee could be aiming at, in document order (ties go first)."""
        return {oid: c for oid, c in self._centres.items() if self._effects.visible[oid]}

    def _require_started(self) -> None:
        if not self.started:
            raise NotRunningError(
                f"scenario {self.scenario.id!r} has not started: no trainee has connected yet"
            )

    def _require_running(self) -> None:
        self._require_started()
        if self.outcome is not None:
            raise NotRunningError(
                f"scenario {self.scenario.id!r} has already ended ({self.outcome})"
            )


def _check_nodes(scenario: Scenario, bounds: Mapping[str, NodeBounds]) -> None:
    missing = [
        f"{what} {part.id!r}: node {part.node!r}"
        for what, parts in (("object", scenario.objects), ("actor", scenario.actors))
        for part in parts
        if part.node not in bounds
    ]
    if missing:
        raise ScenarioRuntimeError(
            f"scenario {scenario.id!r} names nodes the scene does not have: " + "; ".join(missing)
        )


def _motion(
    node: str, behaviour: Idle | FollowPath, bounds: Mapping[str, NodeBounds]
) -> ActorMotion:
    speed = behaviour.speed_m_s if isinstance(behaviour, FollowPath) else DEFAULT_SPEED_M_S
    return ActorMotion(node, bottom_centre(as_bounds(*bounds[node])), speed)
