# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""A request body as it arrives: buffered chunks, a reader that waits, back-pressure."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final

from originguard.errors import BodyTooLarge

# Buffered body bytes above which the connection stops reading (back-pressure, not buffering).
BODY_HIGH_WATER: Final = 256 * 1024


class Body:
    """A request body streamed from the connection with back-pressure.

    The connection feeds chunks; the application awaits `read()`. Reading more than `limit`
    bytes raises BodyTooLarge (chunked bodies have no length up front).
    """

    __slots__ = (
        "_buffered",
        "_chunks",
        "_done",
        "_error",
        "_limit",
        "_on_drain",
        "_on_first_read",
        "_size",
        "_waiter",
    )

    def __init__(self, limit: int, on_drain: Callable[[], None], on_first_read: Callable[[], None]) -> None:
        self._chunks: deque[bytes] = deque()
        self._done = False
        self._size = 0
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._limit = limit
        self._on_drain = on_drain
        self._on_first_read: Callable[[], None] | None = on_first_read
        self._error: BaseException | None = None

    @property
    def complete(self) -> bool:
        """Whether the whole body has arrived."""
        return self._done

    @property
    def buffered(self) -> int:
        return self._buffered

    def feed(self, chunk: bytes) -> None:
        """Called by the connection for each parsed body chunk."""
        self._size += len(chunk)
        if self._size > self._limit:
            raise BodyTooLarge(f"request body over {self._limit} bytes")
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        self._wake()

    def finish(self) -> None:
        self._done = True
        self._wake()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def read(self) -> bytes:
        """The next chunk, or b"" at the end of the body."""
        if self._on_first_read is not None:
            self._on_first_read()  # 100-continue goes out only when someone wants the body
            self._on_first_read = None
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._done:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._buffered < BODY_HIGH_WATER:
            self._on_drain()
        return chunk

    async def read_all(self) -> bytes:
        """The whole body (bounded by the limit)."""
        parts = []
        while chunk := await self.read():
            parts.append(chunk)
        return b"".join(parts)
