"""The wait queue: sessions that asked to wait for capacity (`wait=true`).

Fair means round-robin between owners, first come first served within an owner: a
trainee who queues ten sessions does not make the next trainee wait behind all ten.
Each entry's rank is (how many of its owner's entries are ahead of it, arrival order),
so positions are recomputed from scratch when read and are always current. Queues here
hold at most `queue_limit` entries (100 by default), so the O(n log n) read is cheap.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Entry:
    item: str
    owner: str
    seq: int


class FairQueue:
    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, item: object) -> bool:
        return any(e.item == item for e in self._entries)

    def push(self, item: str, owner: str) -> int:
        """Queue `item` for `owner`; return its 1-based position."""
        if item in self:
            raise ValueError(f"{item!r} is already queued")
        self._entries.append(_Entry(item, owner, next(self._seq)))
        return self.position(item) or len(self._entries)

    def remove(self, item: str) -> bool:
        """Drop `item` (a cancelled request); return whether it was queued."""
        before = len(self._entries)
        self._entries = [e for e in self._entries if e.item != item]
        return len(self._entries) != before

    def pop(self) -> str | None:
        """Take the entry whose turn it is, or `None` when empty."""
        order = self.order()
        if not order:
            return None
        self.remove(order[0])
        return order[0]

    def order(self) -> list[str]:
        """All queued items, next first."""
        ahead: dict[str, int] = {}
        ranked: list[tuple[int, int, str]] = []
        for entry in self._entries:  # kept in arrival order
            rank = ahead.get(entry.owner, 0)
            ahead[entry.owner] = rank + 1
            ranked.append((rank, entry.seq, entry.item))
        return [item for _, _, item in sorted(ranked)]

    def position(self, item: str) -> int | None:
        """`item`'s 1-based place in line, or `None` if it is not queued."""
        for index, queued in enumerate(self.order(), start=1):
            if queued == item:
                return index
        return None
