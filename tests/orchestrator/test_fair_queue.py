"""The wait queue: first come first served within an owner, round-robin between owners,
positions always current."""

from __future__ import annotations

import pytest

from orchestrator.queue import FairQueue


def test_one_owners_requests_are_served_in_arrival_order() -> None:
    queue = FairQueue()
    for item in ("a1", "a2", "a3"):
        queue.push(item, "alice")
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == ["a1", "a2", "a3", None]


def test_owners_take_turns_so_nobody_waits_behind_a_crowd() -> None:
    queue = FairQueue()
    for item in ("a1", "a2", "a3"):
        queue.push(item, "alice")
    assert queue.push("b1", "bob") == 2  # bob's first goes before alice's second
    queue.push("c1", "carol")
    assert queue.order() == ["a1", "b1", "c1", "a2", "a3"]


def test_positions_are_one_based_and_move_up_as_others_leave() -> None:
    queue = FairQueue()
    assert queue.push("x", "alice") == 1
    assert queue.push("y", "bob") == 2
    assert queue.push("z", "carol") == 3
    assert queue.remove("y")
    assert queue.position("z") == 2
    assert queue.pop() == "x"
    assert queue.position("z") == 1
    assert queue.position("y") is None


def test_removing_something_not_queued_reports_false() -> None:
    queue = FairQueue()
    assert not queue.remove("nothing")


def test_the_same_item_cannot_be_queued_twice() -> None:
    queue = FairQueue()
    queue.push("x", "alice")
    with pytest.raises(ValueError, match="already queued"):
        queue.push("x", "alice")
    assert len(queue) == 1
    assert "x" in queue
