"""The pool of builders: which builder builds what, and what is left when one goes down.

repro schedules; the builders (buildx builders of any driver, or docker contexts) build.
Each builder takes ``builds_per_node`` builds at once per node that answers (a
kubernetes builder with three replicas has three nodes). A verification holds one slot
on the builder of A and one on the builder of B, two different builders whenever two
answer, so the two builds of one image never share an engine; with one builder left it
holds one slot there and builds A, then B.

The images are taken longest first (``order``): a long image started last would finish
after everything else. The estimate is what repro knows without asking anyone: the
image's duration the last time it was verified here (the cache under .repro/cache/),
else the size of its build context. Images never timed come first, largest context
first: any of them may be the longest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from repro.build.model import BuilderStatus

DEFAULT_BUILDS_PER_NODE = 2
T = TypeVar("T")


@dataclass(frozen=True)
class Estimate:
    seconds: float | None  # the last recorded duration; None: never timed here
    context_bytes: int  # the build context's size


def order(items: Sequence[T], estimate: Callable[[T], Estimate]) -> list[T]:
    """Longest first: the never-timed by context size, then the timed by duration."""

    def key(item: T) -> tuple[int, float]:
        guess = estimate(item)
        if guess.seconds is None:
            return (0, -float(guess.context_bytes))
        return (1, -guess.seconds)

    return sorted(items, key=key)


class Pool:
    """The builders' free slots and who is down; safe to share between threads."""

    def __init__(self, statuses: Sequence[BuilderStatus], builds_per_node: int) -> None:
        self._lock = threading.Lock()
        self.names = tuple(status.name for status in statuses)
        self._capacity = {
            s.name: max(1, s.nodes) * max(1, builds_per_node) for s in statuses if s.up
        }
        self._running = dict.fromkeys(self._capacity, 0)
        self._builds = dict.fromkeys(self.names, 0)
        self._as_a = dict.fromkeys(self.names, 0)
        self.down: dict[str, str] = {s.name: s.detail for s in statuses if not s.up}
        self.went_down: dict[str, str] = {}

    @property
    def up(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(name for name in self.names if name in self._capacity)

    @property
    def capacity(self) -> int:
        """The most builds the pool runs at once."""
        with self._lock:
            return sum(self._capacity.values())

    def builds(self) -> Mapping[str, int]:
        with self._lock:
            return dict(self._builds)

    def reserve(self) -> tuple[str, ...] | None:
        """Builders for one verification, (A's, B's) or (the one left,); None: no room now.

        Among the builders with room, the two with the most room (then the ones that
        have built least); A goes to the one of them that has built A least, so A and B
        alternate across the pool.
        """
        with self._lock:
            free = [
                name
                for name in self.names
                if name in self._capacity and self._running[name] < self._capacity[name]
            ]
            if not free or (len(self._capacity) >= 2 and len(free) < 2):
                return None
            free.sort(key=lambda n: (self._running[n] - self._capacity[n], self._builds[n]))
            if len(self._capacity) < 2:
                chosen: tuple[str, ...] = (free[0],)
                self._builds[free[0]] += 2
            else:
                # A goes to the one of the two that has built A least: A and B alternate.
                pair = sorted(free[:2], key=lambda n: (self._as_a[n], self.names.index(n)))
                chosen = (pair[0], pair[1])
                self._as_a[pair[0]] += 1
                for name in chosen:
                    self._builds[name] += 1
            for name in chosen:
                self._running[name] += 1
            return chosen

    def release(self, builders: Sequence[str]) -> None:
        with self._lock:
            for name in builders:
                if name in self._running:
                    self._running[name] -= 1

    def mark_down(self, name: str, detail: str) -> None:
        """``name`` stopped answering: it gets nothing more."""
        with self._lock:
            if name in self._capacity:
                del self._capacity[name]
                self.went_down[name] = detail

    @property
    def exhausted(self) -> bool:
        """No builder is left to build anything."""
        with self._lock:
            return not self._capacity
