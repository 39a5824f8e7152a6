# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Results kept across transactions, bounded by the bytes they hold.

Browsers send the same User-Agent, Accept and cookie values request after request, so a value's
transformations and prefilter scans are kept and shared by every transaction of a rule set. The
keys are request bytes, so each memo has a budget: once the bytes it references pass it, the
oldest entries are dropped. A flood of distinct values then costs recomputation, never memory.
"""

from __future__ import annotations

from collections import deque
from typing import Final, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

BUDGET: Final = 2 << 20  # bytes one memo may hold: its keys, values and entries
SHARED_VALUE: Final = 4096  # values up to this size share results across transactions


class Memo(Generic[K, V]):
    """A dict with a byte budget: `put(key, value, size)` counts `size` against it, and the
    oldest entries go first once it is spent (one at a time: dropping all at once freed ~90k
    entries in one request, a 4 ms pause every 150 requests of fresh form values)."""

    __slots__ = ("budget", "entries", "order", "size")

    def __init__(self, budget: int = BUDGET) -> None:
        self.entries: dict[K, V] = {}
        self.order: deque[tuple[K, int]] = deque()
        self.size = 0
        self.budget = budget

    def get(self, key: K) -> V | None:
        return self.entries.get(key)

    def put(self, key: K, value: V, size: int) -> None:
        if key in self.entries:  # a value is a function of its key: already counted
            self.entries[key] = value
            return
        size += 160  # the entry itself: key tuple, dict slot, its record in `order`
        self.entries[key] = value
        self.order.append((key, size))
        self.size += size
        while self.size > self.budget:
            old, old_size = self.order.popleft()
            self.size -= old_size
            del self.entries[old]

    def __len__(self) -> int:
        return len(self.entries)


_KEY_SETS: Final[dict[frozenset[int], frozenset[int]]] = {}
_KEY_SETS_BOUND: Final = 4096


def shared_keys(keys: frozenset[int]) -> frozenset[int]:
    """One object per distinct set of prefilter keys. The memos hold tens of thousands of these
    sets but only tens of distinct ones; each object is one more for every full collection of the
    garbage collector to walk (they are containers), so equal sets share one object."""
    hit = _KEY_SETS.get(keys)
    if hit is not None:
        return hit
    if len(_KEY_SETS) >= _KEY_SETS_BOUND:
        _KEY_SETS.clear()  # crafted values can combine keys without end: bounded
    _KEY_SETS[keys] = keys
    return keys
