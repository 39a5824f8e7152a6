"""Request collapsing bookkeeping: concurrent misses for one key make one origin request."""

from __future__ import annotations

from typing import Generic, TypeVar

W = TypeVar("W")


class InFlight(Generic[W]):
    """Misses being fetched, by cache key: the first caller leads, later callers wait behind it.

    `W` is whatever the shell wakes a waiter with (an asyncio future, a callback); this class only
    keeps the lists, so it is the same with or without an event loop.
    """

    __slots__ = ("_waiting",)

    def __init__(self) -> None:
        self._waiting: dict[bytes, list[W]] = {}

    def join(self, key: bytes, waiter: W) -> bool:
        """Register interest in `key`; True means the caller leads and must fetch from the origin."""
        waiters = self._waiting.get(key)
        if waiters is None:
            self._waiting[key] = []
            return True
        waiters.append(waiter)
        return False

    def finish(self, key: bytes) -> list[W]:
        """The leader is done (stored, failed or uncacheable): the waiters to wake, key released."""
        return self._waiting.pop(key, [])

    def __contains__(self, key: object) -> bool:
        return key in self._waiting

    def __len__(self) -> int:
        return len(self._waiting)
