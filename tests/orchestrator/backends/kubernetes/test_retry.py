"""The retry policy on a clock moved by hand: which failures are retried, how long each
wait is, that `Retry-After` is honoured, that tries and time are bounded, and that a
failure after a possibly-applied try is marked so a 409 can be recognised as ours."""

from __future__ import annotations

import random

import aiohttp
import pytest

from orchestrator.backends.kubernetes.errors import KubeApiError, retry_after_s
from orchestrator.backends.kubernetes.retry import Retrier, RetryPolicy


class HandClock:
    """`monotonic` and `sleep` for the retrier: sleeping moves the clock, instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def retrier(clock: HandClock, **policy: float) -> Retrier:
    return Retrier(
        RetryPolicy(**policy),  # type: ignore[arg-type]
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        rng=random.Random(7),
    )


class Script:
    """A call that fails with the given errors in turn, then answers `"done"`."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def busy(retry_after: float | None = None) -> KubeApiError:
    return KubeApiError(429, "TooManyRequests", "slow down", retry_after_s=retry_after)


async def test_a_busy_server_is_waited_for_as_long_as_it_asks() -> None:
    clock = HandClock()
    script = Script(busy(1.0), busy(2.0))
    assert await retrier(clock, cap_s=5.0).run("get_pod", script) == "done"
    assert script.calls == 3
    assert clock.waits == [1.0, 2.0]


async def test_a_retry_after_longer_than_the_cap_is_cut_to_the_cap() -> None:
    clock = HandClock()
    await retrier(clock, cap_s=0.5).run("get_pod", Script(busy(30.0)))
    assert clock.waits == [0.5]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retried_with_jittered_growing_waits(status: int) -> None:
    clock = HandClock()
    errors = [KubeApiError(status, "InternalError", "x") for _ in range(4)]
    script = Script(*errors)
    await retrier(clock, attempts=5, base_s=0.1, cap_s=10.0).run("list_pods", script)
    assert script.calls == 5
    for failures, wait in enumerate(clock.waits):
        assert 0.0 <= wait <= 0.1 * 2**failures


@pytest.mark.parametrize(
    "error",
    [
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("truncated"),
        TimeoutError(),
        ConnectionResetError(),
    ],
)
async def test_lost_connections_and_timeouts_are_retried(error: BaseException) -> None:
    script = Script(error)
    assert await retrier(HandClock()).run("get_pod", script) == "done"
    assert script.calls == 2


@pytest.mark.parametrize(
    ("status", "reason"),
    [(409, "Conflict"), (409, "AlreadyExists"), (404, "NotFound"), (403, "Forbidden"), (422, "")],
)
async def test_decisions_are_never_retried(status: int, reason: str) -> None:
    script = Script(KubeApiError(status, reason, "no"))
    with pytest.raises(KubeApiError) as raised:
        await retrier(HandClock()).run("patch_pod", script)
    assert script.calls == 1
    assert raised.value.after_unknown_outcome is False


async def test_tries_are_bounded_and_the_last_error_is_raised() -> None:
    clock = HandClock()
    script = Script(*[busy(0.01) for _ in range(10)])
    with pytest.raises(KubeApiError) as raised:
        await retrier(clock, attempts=3).run("get_pod", script)
    assert script.calls == 3
    assert raised.value.status == 429


async def test_no_wait_runs_past_the_deadline() -> None:
    clock = HandClock()
    script = Script(*[busy(1.0) for _ in range(10)])
    with pytest.raises(KubeApiError):
        await retrier(clock, attempts=100, deadline_s=2.5, cap_s=5.0).run("get_pod", script)
    assert clock.now <= 2.5
    assert script.calls == 3


async def test_a_conflict_after_a_possibly_applied_try_is_marked() -> None:
    script = Script(KubeApiError(504, "Timeout", "lost"), KubeApiError(409, "AlreadyExists", "x"))
    with pytest.raises(KubeApiError) as raised:
        await retrier(HandClock()).run("create_pod", script)
    assert raised.value.after_unknown_outcome is True


async def test_a_conflict_after_only_refused_tries_is_not_marked() -> None:
    script = Script(busy(0.0), KubeApiError(409, "AlreadyExists", "x"))
    with pytest.raises(KubeApiError) as raised:
        await retrier(HandClock()).run("create_pod", script)
    assert raised.value.after_unknown_outcome is False


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        ("3", None, 3.0),
        (" 0 ", None, 0.0),
        (None, {"details": {"retryAfterSeconds": 2}}, 2.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None, None),
        (None, {"details": {"retryAfterSeconds": "2"}}, None),
        (None, {"details": {"retryAfterSeconds": -1}}, None),
        (None, [], None),
    ],
)
def test_retry_after_is_read_from_the_header_or_the_status(
    header: str | None, body: object, expected: float | None
) -> None:
    assert retry_after_s(header, body) == expected
