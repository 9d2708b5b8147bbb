"""The claimable pods of each profile, with O(1) add, remove and random pick.

Claims pick a pod at random so that replicas claiming at the same moment rarely pick
the same one (each collision costs a 409 and a retry). A Python set cannot be sampled
in constant time, so each profile keeps a list plus each name's position in it;
removal swaps the last element into the gap.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator


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
    """Ready, warm, keyed pods by profile hash."""

    def __init__(self) -> None:
        self._by_profile: dict[str, RandomSet] = {}

    def members(self, profile: str) -> RandomSet:
        return self._by_profile.setdefault(profile, RandomSet())

    def set(self, profile: str, name: str, warm: bool) -> None:
        if warm:
            self.members(profile).add(name)
        elif profile in self._by_profile:
            self._by_profile[profile].discard(name)
