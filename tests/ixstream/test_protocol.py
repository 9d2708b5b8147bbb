"""The data-channel wire protocol: valid messages round-trip, every kind of garbage is
rejected with a stable, metric-safe reason, and nothing raises anything else."""

from __future__ import annotations

import json
import random

import pytest

from ixstream.protocol import (
    MAX_MESSAGE_BYTES,
    ActEvent,
    FrameInfo,
    Hello,
    KeyEvent,
    MouseEvent,
    PoseSample,
    ProtocolError,
    ScenarioNotice,
    ServerTimings,
    WirePose,
    XrViewsEvent,
    encode,
    parse_event,
    parse_input,
    parse_server_message,
)

REASONS = {"not_json", "not_object", "bad_version", "unknown_type", "invalid", "oversized"}
POSE = {"v": 1, "type": "pose", "seq": 7, "t": 12.5, "head": {"p": [0, 1.6, 0], "q": [0, 0, 0, 1]}}


def test_a_pose_sample_round_trips() -> None:
    sample = parse_input(json.dumps(POSE))
    assert sample.seq == 7
    assert parse_input(encode(sample)) == sample


def test_events_of_every_kind_parse() -> None:
    assert parse_event('{"v":1,"type":"key","code":"KeyW","down":true}') == KeyEvent(
        code="KeyW", down=True
    )
    assert isinstance(parse_event('{"v":1,"type":"mouse","dx":3,"dy":-2.5}'), MouseEvent)
    assert parse_event('{"v":1,"type":"button","device":"left","index":0,"pressed":true}')
    assert parse_event('{"v":1,"type":"axes","device":"gamepad","values":[0.5,-1]}')
    views = parse_event(
        '{"v":1,"type":"xr_views","eyes":[{"offset":[-0.03,0,0],"fov":[1,1,1,1]},'
        '{"offset":[0.03,0,0],"fov":[1,1,1,1]}]}'
    )
    assert isinstance(views, XrViewsEvent)
    assert parse_event('{"v":1,"type":"act"}') == ActEvent(action="use", object=None)
    assert parse_event('{"v":1,"type":"act","action":"grab","object":"alarm-button"}') == (
        ActEvent(action="grab", object="alarm-button")
    )


def test_server_messages_round_trip() -> None:
    hello = Hello(
        role="spectator", controls=False, width=640, height=480, fps=30, codec="vp8", stereo=False
    )
    info = FrameInfo(
        id=3,
        rtp=123456,
        pose=WirePose(p=(0.0, 1.6, 0.0), q=(0.0, 0.0, 0.0, 1.0)),
        seq=9,
        input_t=100.0,
        keyframe=True,
        server=ServerTimings(render_ms=5, convert_ms=1, encode_ms=2, done_at_ms=1e12),
    )
    notice = ScenarioNotice(
        scenario="gas-leak-warehouse", t=21.5, caption="Gas!", paused=False, outcome=None,
        message=None,
    )  # fmt: skip
    assert parse_server_message(encode(hello)) == hello
    assert parse_server_message(encode(info)) == info
    assert parse_server_message(encode(notice)) == notice


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("{", "not_json"),
        ("[]", "not_object"),
        ("null", "not_object"),
        (json.dumps({**POSE, "v": 2}), "bad_version"),
        (json.dumps({**POSE, "type": "teleport"}), "unknown_type"),
        (json.dumps({**POSE, "seq": "7"}), "invalid"),
        (json.dumps({**POSE, "seq": -1}), "invalid"),
        (json.dumps({**POSE, "extra": 1}), "invalid"),
        (json.dumps({**POSE, "head": {"p": [0, 1], "q": [0, 0, 0, 1]}}), "invalid"),
        (json.dumps({**POSE, "head": {"p": [0, 1, 0], "q": [0, 0, 0, 5]}}), "invalid"),
        (json.dumps(POSE).replace("12.5", "NaN"), "invalid"),
        (json.dumps(POSE).replace("12.5", "1e999"), "invalid"),
        ("x" * (MAX_MESSAGE_BYTES + 1), "oversized"),
        (b"\xff\xfe\x00", "not_json"),
    ],
)
def test_bad_input_messages_are_rejected_with_a_reason(message: str | bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_input(message)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "message",
    [
        '{"v":1,"type":"key","code":"","down":true}',
        '{"v":1,"type":"key","code":"Key W<script>","down":true}',
        '{"v":1,"type":"mouse","dx":1e9,"dy":0}',
        '{"v":1,"type":"button","device":"nose","index":0,"pressed":true}',
        '{"v":1,"type":"axes","device":"gamepad","values":[2]}',
        '{"v":1,"type":"axes","device":"gamepad","values":[0,0,0,0,0,0,0,0,0]}',
        '{"v":1,"type":"xr_views","eyes":[{"offset":[0,0,0],"fov":[0,1,1,1]},'
        '{"offset":[0,0,0],"fov":[1,1,1,1]}]}',
        '{"v":1,"type":"pose"}',
        '{"v":1,"type":"act","action":"kick"}',
        '{"v":1,"type":"act","object":"../../etc/passwd"}',
        '{"v":1,"type":"act","object":"Alarm Button"}',
    ],
)
def test_bad_events_are_rejected(message: str) -> None:
    with pytest.raises(ProtocolError):
        parse_event(message)


def test_random_garbage_only_ever_raises_protocol_errors() -> None:
    rng = random.Random(1234)
    valid = json.dumps(POSE).encode()
    for _ in range(3000):
        kind = rng.randrange(3)
        if kind == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        elif kind == 1:
            data = valid[: rng.randrange(len(valid))]
        else:
            data = bytearray(valid)
            for _ in range(3):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        for parse in (parse_input, parse_event, parse_server_message):
            reason = None
            try:
                parse(data)
            except ProtocolError as exc:
                reason = exc.reason
            assert reason in {None, *REASONS}


def test_a_sample_with_controllers_keeps_them() -> None:
    pose = {"p": [0.2, 1.2, -0.3], "q": [0, 0, 0, 1]}
    sample = parse_input(json.dumps({**POSE, "left": pose, "right": pose}))
    assert isinstance(sample, PoseSample)
    assert sample.left is not None
    assert sample.left.p == (0.2, 1.2, -0.3)
