"""What an LRS's answer means for a statement, and how long the sender waits: a table
of answers, `Retry-After` in both of its forms, and the backoff's bounds."""

from __future__ import annotations

import random

import pytest

from orchestrator.learning.policy import (
    MAX_RETRY_AFTER_S,
    Backoff,
    Delivered,
    Refused,
    Retry,
    Verdict,
    judge,
    parse_retry_after,
)

NOW = 1_765_000_000.0


@pytest.mark.parametrize(
    ("status", "retry_after", "verdict"),
    [
        (200, None, Delivered(already_stored=False)),
        (204, None, Delivered(already_stored=False)),
        (201, None, Delivered(already_stored=False)),
        (301, None, Retry("misdirected")),
        (308, None, Retry("misdirected")),
        (409, None, Delivered(already_stored=True)),
        (429, "30", Retry("throttled", 30.0)),
        (429, None, Retry("throttled", None)),
        (503, "5", Retry("server_error", 5.0)),
        (500, None, Retry("server_error", None)),
        (401, None, Retry("unauthorised")),
        (403, None, Retry("unauthorised")),
        (400, None, Refused("HTTP 400: bad verb")),
        (404, None, Refused("HTTP 404: bad verb")),
        (413, None, Refused("HTTP 413: bad verb")),
    ],
)
def test_each_answer_has_one_meaning(
    status: int, retry_after: str | None, verdict: Verdict
) -> None:
    assert judge(status, retry_after, "bad verb", NOW) == verdict


def test_a_refusal_keeps_a_bounded_excerpt_of_the_reason() -> None:
    verdict = judge(400, None, "x" * 10_000, NOW)
    assert isinstance(verdict, Refused)
    assert len(verdict.reason) < 600


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Sat, 06 Dec 2025 05:46:50 GMT", 10.0),  # an HTTP-date, 10 s after NOW
        ("Sat, 06 Dec 2025 05:46:00 GMT", 0.0),  # already past
        ("99999999", MAX_RETRY_AFTER_S),
        ("soon", None),
        ("-3", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_the_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    backoff, rng = Backoff(1.0, 60.0), random.Random(7)
    for failures, ceiling in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (50, 60)]:
        delays = [backoff.delay(failures, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not in lockstep


def test_the_lrs_says_how_long_to_wait_when_it_says_it() -> None:
    backoff, rng = Backoff(1.0, 60.0), random.Random(7)
    assert backoff.wait(Retry("throttled", 90.0), 1, rng) == 90.0
    assert 0.5 <= backoff.wait(Retry("throttled"), 1, rng) <= 1.0
