"""The text/event-stream format (WHATWG HTML §9.2): ids, events, comments, `retry`,
and the ids a client may send back in `Last-Event-ID`."""

from __future__ import annotations

import pytest

from orchestrator.errors import BadEventIdError
from orchestrator.feed.wire import (
    EventId,
    encode_comment,
    encode_event,
    encode_retry,
    epoch_of,
    parse_id,
)


def test_an_event_is_id_type_and_one_json_data_line_then_a_blank_line() -> None:
    wire = encode_event(EventId("abc", 7), "session", {"id": "s1", "detail": "a\nb"})
    assert wire == b'id: abc-7\nevent: session\ndata: {"id":"s1","detail":"a\\nb"}\n\n'


def test_an_event_without_an_id_leaves_the_clients_last_id_alone() -> None:
    assert encode_event(None, "ready", {}) == b"event: ready\ndata: {}\n\n"


def test_an_event_type_with_a_newline_is_refused() -> None:
    with pytest.raises(ValueError, match="newline"):
        encode_event(None, "a\nb", {})


def test_a_comment_stays_on_one_line() -> None:
    assert encode_comment("heart\r\nbeat") == b": heart beat\n\n"


def test_retry_is_whole_milliseconds() -> None:
    assert encode_retry(1500) == b"retry: 1500\n\n"


def test_ids_read_back_as_written_and_order_by_sequence() -> None:
    first, later = parse_id("m1x2-9"), parse_id(" m1x2-10 ")
    assert (str(first), later.seq) == ("m1x2-9", 10)
    assert first < later


@pytest.mark.parametrize("value", ["", "42", "abc", "ABC-1", "a-b", "a-1-2", "x" * 40 + "-1"])
def test_an_id_the_feed_never_sends_is_a_precise_error(value: str) -> None:
    with pytest.raises(BadEventIdError, match="Last-Event-ID"):
        parse_id(value)


def test_a_later_start_has_a_later_epoch_of_the_same_alphabet() -> None:
    assert epoch_of(1_700_000_000.0) < epoch_of(1_800_000_000.0)
    assert parse_id(f"{epoch_of(1_700_000_000.0)}-1").epoch == epoch_of(1_700_000_000.0)
