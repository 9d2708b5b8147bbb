"""The scene state that effects change: visibility, lights, fog and the caption.

Each piece remembers when it changed, in scenario time, so its value at any `t` is a pure
function (a flash blinks, a fog ramp moves, a caption expires) and a paused clock
freezes them all without any of them knowing about pauses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ixstream.scenario.model import (
    Caption,
    FlashLight,
    HideObject,
    InteractiveObject,
    SetFog,
    ShowObject,
    SwitchLight,
)

SceneEffect = ShowObject | HideObject | SwitchLight | FlashLight | SetFog | Caption


@dataclass(frozen=True, slots=True)
class Flash:
    """Blinking: on for the first half of each period, from `start_t` until `until_t`."""

    start_t: float
    period_s: float
    until_t: float | None  # None: until switched

    def active(self, t: float) -> bool:
        return self.until_t is None or t < self.until_t

    def on(self, t: float) -> bool:
        return (t - self.start_t) % self.period_s < self.period_s / 2


@dataclass(slots=True)
class Light:
    """A `light` object: switched on or off, possibly flashing over that.

    A flash does not change `lit`: when it runs out the light shows its steady state again.
    """

    lit: bool
    flash: Flash | None = None

    def gain(self, t: float) -> float:
        if self.flash is not None and self.flash.active(t):
            return 1.0 if self.flash.on(t) else 0.0
        return 1.0 if self.lit else 0.0


@dataclass(frozen=True, slots=True)
class FogRamp:
    """Density moving linearly from `start` to `target` over `over_s` from `start_t`."""

    start_t: float = 0.0
    start: float = 0.0
    target: float = 0.0
    over_s: float = 0.0

    def density(self, t: float) -> float:
        if self.over_s <= 0.0 or t >= self.start_t + self.over_s:
            return self.target
        f = max(0.0, t - self.start_t) / self.over_s
        return self.start + (self.target - self.start) * f


@dataclass(frozen=True, slots=True)
class TimedCaption:
    text: str
    start_t: float
    for_s: float

    def text_at(self, t: float) -> str | None:
        return self.text if self.start_t <= t < self.start_t + self.for_s else None


@dataclass(slots=True)
class SceneEffects:
    """Visibility and lights per object id, the fog, and the latest caption."""

    visible: dict[str, bool] = field(default_factory=dict)
    lights: dict[str, Light] = field(default_factory=dict)
    fog: FogRamp = field(default_factory=FogRamp)
    caption: TimedCaption | None = None

    @classmethod
    def initial(cls, objects: Iterable[InteractiveObject]) -> SceneEffects:
        """As the document says the scenario begins: each object's `visible` and `lit`."""
        objects = list(objects)
        return cls(
            visible={o.id: o.visible for o in objects},
            lights={o.id: Light(o.lit) for o in objects if o.kind == "light"},
        )

    def apply(self, effect: SceneEffect, t: float) -> None:
        """Make `effect` happen at scenario time `t`."""
        match effect:
            case ShowObject(object=obj):
                self.visible[obj] = True
            case HideObject(object=obj):
                self.visible[obj] = False
            case SwitchLight(object=obj, lit=lit):
                # A switch also stops a flash: "blinks for for_s or until a switch_light".
                self.lights[obj] = Light(lit)
            case FlashLight(object=obj, period_s=period, for_s=for_s):
                until = None if for_s is None else t + for_s
                self.lights[obj].flash = Flash(t, period, until)
            case SetFog(density=density, over_s=over_s):
                self.fog = FogRamp(t, self.fog.density(t), density, over_s)
            case Caption(text=text, for_s=for_s):
                self.caption = TimedCaption(text, t, for_s)

    def caption_at(self, t: float) -> str | None:
        return None if self.caption is None else self.caption.text_at(t)
