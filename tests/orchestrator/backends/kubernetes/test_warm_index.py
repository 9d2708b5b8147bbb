"""The claimable-pod index: constant-time add, remove and random pick."""

from __future__ import annotations

import random
from collections import Counter

from orchestrator.backends.kubernetes.warm_index import RandomSet, WarmIndex


def test_adding_and_removing_keeps_exactly_the_members() -> None:
    pods = RandomSet()
    for name in ("a", "b", "c", "d"):
        pods.add(name)
    pods.add("a")
    pods.discard("b")
    pods.discard("zzz")
    assert sorted(pods) == ["a", "c", "d"]
    assert "b" not in pods
    assert len(pods) == 3


def test_a_pick_is_random_and_skips_what_is_not_usable() -> None:
    pods = RandomSet()
    for i in range(10):
        pods.add(f"p{i}")
    rng = random.Random(7)
    picks = Counter(pods.pick(lambda n: n != "p3", rng) for _ in range(2000))
    assert "p3" not in picks
    assert len(picks) == 9
    assert min(picks.values()) > 100  # spread, not always the first


def test_a_pick_finds_the_last_usable_item_or_none() -> None:
    pods = RandomSet()
    for i in range(50):
        pods.add(f"p{i}")
    rng = random.Random(1)
    assert pods.pick(lambda n: n == "p42", rng) == "p42"
    assert pods.pick(lambda n: False, rng) is None
    assert RandomSet().pick(lambda n: True, rng) is None


def test_the_index_keeps_profiles_apart() -> None:
    index = WarmIndex()
    index.set("h1", "a", True)
    index.set("h2", "b", True)
    index.set("h1", "a", False)
    assert list(index.members("h1")) == []
    assert list(index.members("h2")) == ["b"]
