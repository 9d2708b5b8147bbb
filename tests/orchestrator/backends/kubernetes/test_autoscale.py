"""The pool's buffer policy (Agones' FleetAutoscaler buffer), table-tested: a size or a
percentage of all pods, clamped to a minimum and a maximum, never below what serves
sessions."""

from __future__ import annotations

import pytest

from orchestrator.backends.kubernetes.autoscale import BufferPolicy, desired_total, warm_wanted

CASES = [
    # size, percent, min, max, bound -> warm wanted
    (2, None, 0, 16, 0, 2),
    (2, None, 0, 16, 5, 2),
    (2, None, 0, 16, 15, 1),  # the maximum caps the total
    (2, None, 0, 16, 20, 0),  # above the maximum: nothing warm, nothing taken away
    (0, None, 4, 16, 1, 3),  # the minimum fills the pool even without a buffer
    (0, 25, 0, 100, 0, 1),  # a percentage of nothing still keeps one warm
    (0, 25, 0, 100, 3, 1),  # ceil(3 * 100 / 75) = 4
    (0, 25, 0, 100, 30, 10),  # ceil(30 * 100 / 75) = 40
    (0, 50, 0, 100, 30, 30),
    (0, 50, 0, 40, 30, 10),  # the maximum caps a percentage too
    (0, 10, 5, 100, 1, 4),  # and the minimum raises it
]


@pytest.mark.parametrize(("size", "percent", "minimum", "maximum", "bound", "warm"), CASES)
def test_the_buffer_policy_wants_this_many_warm_pods(
    size: int, percent: int | None, minimum: int, maximum: int, bound: int, warm: int
) -> None:
    policy = BufferPolicy(size, minimum, maximum, percent)
    assert warm_wanted(policy, bound) == warm
    assert desired_total(policy, bound) == min(max(bound + warm, minimum), maximum) or (
        bound > maximum
    )


def test_a_percentage_buffer_grows_with_demand_and_a_size_does_not() -> None:
    by_size = BufferPolicy(4, 0, 1000)
    by_share = BufferPolicy(0, 0, 1000, percent=20)
    assert [warm_wanted(by_size, b) for b in (0, 10, 100)] == [4, 4, 4]
    assert [warm_wanted(by_share, b) for b in (0, 10, 100)] == [1, 3, 25]


@pytest.mark.parametrize(
    "arguments",
    [(-1, 0, 1, None), (1, 5, 4, None), (1, 0, 4, 0), (1, 0, 4, 100)],
)
def test_an_impossible_policy_is_refused_with_a_reason(
    arguments: tuple[int, int, int, int | None],
) -> None:
    with pytest.raises(ValueError, match="buffer"):
        BufferPolicy(*arguments)
