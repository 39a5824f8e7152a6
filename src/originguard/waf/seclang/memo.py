"""Results kept across transactions, bounded by the bytes they hold.

Browsers send the same User-Agent, Accept and cookie values request after request, so a value's
transformations and prefilter scans are kept and shared by every transaction of a rule set. The
keys are request bytes, so each memo has a budget: once the bytes it references pass it, it
starts again empty. A flood of distinct values then costs recomputation, never memory.
"""

from __future__ import annotations

from typing import Final, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

BUDGET: Final = 8 << 20  # bytes referenced by one memo's keys and values
SHARED_VALUE: Final = 4096  # values up to this size share results across transactions


class Memo(Generic[K, V]):
    """A dict with a byte budget: `put(key, value, size)` counts `size` against it."""

    __slots__ = ("budget", "entries", "size")

    def __init__(self, budget: int = BUDGET) -> None:
        self.entries: dict[K, V] = {}
        self.size = 0
        self.budget = budget

    def get(self, key: K) -> V | None:
        return self.entries.get(key)

    def put(self, key: K, value: V, size: int) -> None:
        if self.size + size > self.budget:
            self.entries.clear()
            self.size = 0
        self.entries[key] = value
        self.size += size + 64  # the entry itself: tuple, dict slot

    def __len__(self) -> int:
        return len(self.entries)
