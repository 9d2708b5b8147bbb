"""The data-channel wire protocol, version 1 (docs/protocol.md is the prose).

Every message is one JSON object with `v` (protocol version) and `type`.
Parsing is strict: unknown fields, wrong types, non-finite numbers or
oversized messages are rejected with a `ProtocolError` whose `reason` is a
short, stable label used in metrics (never a per-session value).

Channels (DESIGN §2):
- `input`  client → server, unordered, maxRetransmits 0: `pose` samples.
- `events` client → server, reliable, ordered: `key`, `mouse`, `button`,
  `axes`, `xr_views`.
- `frames` server → client: `hello` once, then one `frame` per frame sent.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 4096

INPUT_CHANNEL = "input"
EVENTS_CHANNEL = "events"
FRAMES_CHANNEL = "frames"
CHANNELS = (INPUT_CHANNEL, EVENTS_CHANNEL, FRAMES_CHANNEL)

Finite = Annotated[float, Field(allow_inf_nan=False)]
Position = tuple[Finite, Finite, Finite]
Orientation = tuple[Finite, Finite, Finite, Finite]


class ProtocolError(ValueError):
    """A message that breaks the protocol; `reason` is a metric-safe label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Message(_Strict):
    """A top-level message: carries the protocol version."""

    v: Literal[1] = 1


class WirePose(_Strict):
    """A rigid pose: position in metres, orientation as a unit quaternion (x, y, z, w)."""

    p: Position
    q: Orientation


class EyeParams(_Strict):
    """One XR view: eye offset from the head (metres), fov tangents (up, down, left, right)."""

    offset: Position
    fov: tuple[
        Annotated[float, Field(gt=0, le=20, allow_inf_nan=False)],
        Annotated[float, Field(gt=0, le=20, allow_inf_nan=False)],
        Annotated[float, Field(gt=0, le=20, allow_inf_nan=False)],
        Annotated[float, Field(gt=0, le=20, allow_inf_nan=False)],
    ]


# --- input channel ---------------------------------------------------------


class PoseSample(_Message):
    """One tracking sample. `t` is the client's own clock in ms; it comes back in
    `frame.input_t` so the client measures motion-to-photon on its clock alone."""

    type: Literal["pose"] = "pose"
    seq: Annotated[int, Field(ge=0, le=2**53)]
    t: Finite
    head: WirePose
    left: WirePose | None = None
    right: WirePose | None = None


# --- events channel --------------------------------------------------------


class KeyEvent(_Message):
    type: Literal["key"] = "key"
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")]
    down: bool
    t: Finite = 0.0


class MouseEvent(_Message):
    """Relative motion under pointer lock, in CSS pixels; `buttons` as in MouseEvent.buttons."""

    type: Literal["mouse"] = "mouse"
    dx: Annotated[float, Field(ge=-10_000, le=10_000, allow_inf_nan=False)]
    dy: Annotated[float, Field(ge=-10_000, le=10_000, allow_inf_nan=False)]
    buttons: Annotated[int, Field(ge=0, le=31)] = 0
    t: Finite = 0.0


class ButtonEvent(_Message):
    type: Literal["button"] = "button"
    device: Literal["gamepad", "left", "right"]
    index: Annotated[int, Field(ge=0, le=63)]
    pressed: bool
    value: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    t: Finite = 0.0


class AxesEvent(_Message):
    type: Literal["axes"] = "axes"
    device: Literal["gamepad", "left", "right"]
    values: Annotated[
        list[Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]],
        Field(max_length=8),
    ]
    t: Finite = 0.0


class XrViewsEvent(_Message):
    """The headset's eyes, sent when a stereo session starts and when they change."""

    type: Literal["xr_views"] = "xr_views"
    eyes: tuple[EyeParams, EyeParams]


class ActEvent(_Message):
    """The trainee acts on something in the scene (a scenario's `acts_on` trigger).

    `object` names a scenario object when the client picked one itself; null lets the
    streamer choose what the trainee is looking at, within reach."""

    type: Literal["act"] = "act"
    action: Literal["use", "grab", "touch"] = "use"
    object: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] | None = None
    t: Finite = 0.0


EventMessage = Annotated[
    KeyEvent | MouseEvent | ButtonEvent | AxesEvent | XrViewsEvent | ActEvent,
    Field(discriminator="type"),
]

# --- frames channel --------------------------------------------------------


class ServerTimings(_Strict):
    render_ms: float
    convert_ms: float
    encode_ms: float
    done_at_ms: float  # unix ms when the encoded frame was handed to WebRTC


class FrameInfo(_Message):
    """Per-frame metadata; `rtp` is the frame's RTP timestamp on this viewer's wire
    (null until the sender's timestamp origin is known, i.e. for the first frame)."""

    type: Literal["frame"] = "frame"
    id: int
    rtp: int | None
    pose: WirePose
    seq: int | None  # last input sequence number applied (None: no input yet)
    input_t: float | None  # that sample's client timestamp, echoed
    keyframe: bool
    server: ServerTimings


class Hello(_Message):
    type: Literal["hello"] = "hello"
    role: Literal["trainee", "spectator", "instructor"]
    controls: bool  # whether this viewer's input is applied
    width: int
    height: int
    fps: int
    codec: str
    stereo: bool
    recording: bool = False  # the session's stream is being recorded: tell the trainee


class ScenarioNotice(_Message):
    """What the trainee should be told about the running scenario: sent to every viewer
    when the caption, the pause or the outcome changes, and once after `hello`."""

    type: Literal["scenario"] = "scenario"
    scenario: str
    t: float  # scenario time, seconds
    caption: str | None
    paused: bool
    outcome: Literal["success", "partial", "failure"] | None
    message: str | None


ServerMessage = Annotated[Hello | FrameInfo | ScenarioNotice, Field(discriminator="type")]

_EVENT: TypeAdapter[Any] = TypeAdapter(EventMessage)
_SERVER: TypeAdapter[Any] = TypeAdapter(ServerMessage)


_INPUT = TypeAdapter(PoseSample)


def _check_size(data: str | bytes) -> None:
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError("oversized", f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")


def _validate(adapter: TypeAdapter[Any], data: str | bytes) -> Any:
    """Parses and validates in one pass (pydantic-core's JSON parser, strict types).

    The first error decides the metric label: broken JSON, a wrong version, an
    unknown type, or an invalid field.
    """
    _check_size(data)
    try:
        return adapter.validate_json(data, strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        kind = first["type"]
        if kind == "json_invalid":
            raise ProtocolError("not_json", first["msg"][:200]) from None
        if kind in {"model_type", "model_attributes_type", "dict_type"} and not first["loc"]:
            raise ProtocolError("not_object", first["msg"]) from None
        if first["loc"][-1:] == ("v",) or where == "v":
            raise ProtocolError("bad_version", f"expected v={PROTOCOL_VERSION}") from None
        if kind in {"union_tag_invalid", "union_tag_not_found"} or where == "type":
            raise ProtocolError("unknown_type", first["msg"][:200]) from None
        raise ProtocolError("invalid", f"{where}: {first['msg']}"[:300]) from None


def parse_input(data: str | bytes) -> PoseSample:
    sample: PoseSample = _validate(_INPUT, data)
    _check_unit_quaternions(sample)
    return sample


Event = KeyEvent | MouseEvent | ButtonEvent | AxesEvent | XrViewsEvent | ActEvent


def parse_event(data: str | bytes) -> Event:
    event: Event = _validate(_EVENT, data)
    return event


def parse_server_message(data: str | bytes) -> Hello | FrameInfo | ScenarioNotice:
    message: Hello | FrameInfo | ScenarioNotice = _validate(_SERVER, data)
    return message


def encode(message: _Strict) -> str:
    """Serialises compactly; the inverse of the parse_* functions."""
    return message.model_dump_json(exclude_none=False)


def _check_unit_quaternions(sample: PoseSample) -> None:
    for name, pose in (("head", sample.head), ("left", sample.left), ("right", sample.right)):
        if pose is None:
            continue
        norm = math.sqrt(sum(c * c for c in pose.q))
        if not 0.9 < norm < 1.1:
            raise ProtocolError("invalid", f"{name}.q is not a unit quaternion (|q|={norm:.3f})")
