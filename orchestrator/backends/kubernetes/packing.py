"""Which node a claim should take its warm pod from: bin-packing, so nodes empty out.

A cluster autoscaler removes a GPU node only when nothing on it must stay: a pod that
serves a session pins its node (`manifests.SAFE_TO_EVICT_ANNOTATION`). Claims spread at
random over the warm pods leave one session on many nodes after a peak; claims that
prefer the node already holding the most sessions leave the others with warm pods only,
which the autoscaler may remove. So a claim ranks the nodes that hold a claimable pod:

1. the most sessions (bound pods of ours) first;
2. then the fewest free GPUs, counted as the most pods of ours on the node (the same
   thing on nodes of one shape that run only streamers; this replica cannot see other
   tenants' requests without reading nodes);
3. then the name, so every replica ranks alike.

Nodes being drained (cordoned) rank nowhere: no new session starts on them.

New warm pods are packed by the scheduler, not here: kube-scheduler's NodeResourcesFit
plugin with the `MostAllocated` scoring strategy (KubeSchedulerConfiguration) puts a
pod on the fullest node that fits; the simulator's `Scheduler(scoring="MostAllocated")`
does the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator


class NodeLoad:
    """Per node: how many of our pods are bound to sessions and how many we run."""

    def __init__(self) -> None:
        self._where: dict[str, tuple[str, bool]] = {}  # pod -> (node, bound)
        self._bound: Counter[str] = Counter()
        self._pods: Counter[str] = Counter()
        self.draining: set[str] = set()

    def place(self, pod: str, node: str | None, bound: bool) -> None:
        """Record where `pod` runs (None: not on a node, or gone) and whether bound."""
        old = self._where.pop(pod, None)
        if old is not None:
            self._pods[old[0]] -= 1
            self._bound[old[0]] -= old[1]
        if node:
            self._where[pod] = (node, bound)
            self._pods[node] += 1
            self._bound[node] += bound

    def sessions_on(self, node: str) -> int:
        return self._bound[node]

    def pods_on(self, node: str) -> int:
        return self._pods[node]

    def rank(self, node: str) -> tuple[int, int, str]:
        """Smaller is better: most sessions, then fullest, then by name."""
        return (-self._bound[node], -self._pods[node], node)

    def preferred(self, nodes: Iterable[str]) -> Iterator[str]:
        """`nodes` best first, without those being drained. Lazily: the best one costs
        one pass (a claim almost always stops there), the rest a sort."""
        usable = [n for n in nodes if n not in self.draining]
        if not usable:
            return
        best = min(usable, key=self.rank)
        yield best
        yield from sorted((n for n in usable if n != best), key=self.rank)
