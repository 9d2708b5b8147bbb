"""The `text/event-stream` format (WHATWG HTML §9.2 "Server-sent events"), as pure
functions: event ids, events, comments and the reconnection time.

Ids are `<epoch>-<seq>`: `seq` counts up from 1 within one orchestrator process and
`epoch` names that process (its start time in milliseconds, base 36), so an id kept by
a page across an orchestrator restart is recognised as another run's and answered with
a `reset` rather than misread as a position in this run's sequence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import BadEventIdError

#: An id as `format_id` writes it; nothing else is accepted back in `Last-Event-ID`.
EVENT_ID = re.compile(r"^([0-9a-z]{1,16})-([0-9]{1,18})$")
#: §9.2.6: a line may end in CR, LF or CRLF, so no field value may contain either.
NEWLINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True, order=True)
class EventId:
    epoch: str
    seq: int

    def __str__(self) -> str:
        return f"{self.epoch}-{self.seq}"


def epoch_of(now_s: float) -> str:
    """A process's epoch: its start time in ms, base 36 (short, grows with time)."""
    return _base36(int(now_s * 1000))


def parse_id(value: str) -> EventId:
    """`Last-Event-ID` as sent back by a client; `BadEventIdError` if it is not one of ours."""
    match = EVENT_ID.match(value.strip())
    if match is None:
        raise BadEventIdError(
            f"Last-Event-ID {value[:80]!r} is not an id this feed sends "
            "(`<epoch>-<seq>`, e.g. `m1x2y3-42`); reconnect without it to start afresh"
        )
    return EventId(match[1], int(match[2]))


def encode_event(event_id: EventId | None, kind: str, data: Any) -> bytes:
    """One event: `id`, `event` and `data` fields and the blank line that dispatches it.

    JSON never contains a raw newline (json.dumps escapes it), so `data` is one line.
    """
    if NEWLINES.search(kind):
        raise ValueError(f"an event type cannot contain a newline: {kind!r}")
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines += [f"event: {kind}", f"data: {json.dumps(data, separators=(',', ':'))}", "", ""]
    return "\n".join(lines).encode()


def encode_comment(text: str) -> bytes:
    """A comment line (§9.2.6: a line starting with a colon is ignored by the client):
    the heartbeat that keeps proxies from cutting an idle stream."""
    return f": {NEWLINES.sub(' ', text)}\n\n".encode()


def encode_retry(milliseconds: int) -> bytes:
    """The reconnection time a client should wait after the stream drops (§9.2.6 `retry`)."""
    return f"retry: {max(0, int(milliseconds))}\n\n".encode()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out
