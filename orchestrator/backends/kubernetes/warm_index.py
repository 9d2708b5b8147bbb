"""The claimable pods of each profile, with O(1) add, remove and random pick.

Claims pick a pod at random so that replicas claiming at the same moment rarely pick
the same one (each collision costs a 409 and a retry). A Python set cannot be sampled
in constant time, so each profile keeps a list plus each name's position in it;
removal swaps the last element into the gap.

With a node ranking (`packing.NodeLoad.preferred`), a pick first chooses the best node
holding a claimable pod, then a pod on it at random: pods on one node are equally
good, and the random draw among them still keeps racing replicas apart.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator

#: Orders nodes best first (and leaves out those no claim may use).
NodeRanking = Callable[[Iterable[str]], Iterable[str]]


class RandomSet:
    def __init__(self) -> None:
        self._items: list[str] = []
        self._where: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def add(self, item: str) -> None:
        if item not in self._where:
            self._where[item] = len(self._items)
            self._items.append(item)

    def discard(self, item: str) -> None:
        index = self._where.pop(item, None)
        if index is None:
            return
        last = self._items.pop()
        if index < len(self._items):
            self._items[index] = last
            self._where[last] = index

    def pick(self, usable: Callable[[str], bool], rng: random.Random, tries: int = 8) -> str | None:
        """A random usable item: a few random draws, then a scan (when most are not)."""
        if not self._items:
            return None
        for _ in range(tries):
            item = self._items[rng.randrange(len(self._items))]
            if usable(item):
                return item
        start = rng.randrange(len(self._items))
        for offset in range(len(self._items)):
            item = self._items[(start + offset) % len(self._items)]
            if usable(item):
                return item
        return None


class WarmIndex:
    """Ready, warm, keyed pods by profile hash, and by node within a profile."""

    def __init__(self, ranking: NodeRanking | None = None) -> None:
        self._by_profile: dict[str, RandomSet] = {}
        self._by_node: dict[str, dict[str, RandomSet]] = {}
        self._node_of: dict[str, str] = {}
        self._ranking = ranking

    def members(self, profile: str) -> RandomSet:
        return self._by_profile.setdefault(profile, RandomSet())

    def set(self, profile: str, name: str, warm: bool, node: str = "") -> None:
        self._unplace(profile, name)
        if warm:
            self.members(profile).add(name)
            self._node_of[name] = node
            self._by_node.setdefault(profile, {}).setdefault(node, RandomSet()).add(name)
        elif profile in self._by_profile:
            self._by_profile[profile].discard(name)

    def _unplace(self, profile: str, name: str) -> None:
        node = self._node_of.pop(name, None)
        nodes = self._by_node.get(profile)
        if node is None or nodes is None or node not in nodes:
            return
        nodes[node].discard(name)
        if not nodes[node]:
            del nodes[node]

    def pick(self, profile: str, usable: Callable[[str], bool], rng: random.Random) -> str | None:
        """A claimable pod of `profile`: on the best-ranked node if there is a ranking
        (a random one of its pods), else any at random."""
        if self._ranking is None:
            return self.members(profile).pick(usable, rng)
        nodes = self._by_node.get(profile, {})
        for node in self._ranking(nodes):
            name = nodes[node].pick(usable, rng)
            if name is not None:
                return name
        return None
