"""asyncio shell of request collapsing: one origin fetch per cache key at a time.

Not a pure module (it uses asyncio). A waiter gets the leader's result with `leader=False`; it may
reuse it only if the response was shareable (stored); otherwise it must fetch for itself, since a
private answer to one viewer must not reach another (RFC 9111 §3, §5.2.2.7).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")


class Collapser(Generic[T]):
    """Runs `fetch` once per key while it is in flight; every concurrent caller awaits that run."""

    __slots__ = ("_running",)

    def __init__(self) -> None:
        self._running: dict[bytes, asyncio.Future[T]] = {}

    async def run(self, key: bytes, fetch: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The result of the one fetch for `key`, and whether this caller led it."""
        running = self._running.get(key)
        leader = running is None
        if running is None:
            running = asyncio.ensure_future(fetch())
            self._running[key] = running
            running.add_done_callback(partial(self._done, key))
        # shield: a viewer hanging up must not cancel the fetch the others (and the cache) wait for.
        return await asyncio.shield(running), leader

    def in_flight(self, key: bytes) -> bool:
        """Is a fetch for `key` running (e.g. to start only one stale-while-revalidate refresh)."""
        return key in self._running

    def __len__(self) -> int:
        return len(self._running)

    def _done(self, key: bytes, future: asyncio.Future[T]) -> None:
        """Release the key; mark an unawaited failure as seen so asyncio does not log it."""
        if self._running.get(key) is future:
            del self._running[key]
        if not future.cancelled():
            future.exception()
