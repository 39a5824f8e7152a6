"""Request and body types handed by the server to applications."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final

from originguard.errors import BodyTooLarge
from originguard.http.request_checks import HeaderIndex, index_headers

Header = tuple[bytes, bytes]

NO_VALUES: Final[tuple[bytes, ...]] = ()

# Buffered body bytes above which the connection stops reading (back-pressure, not buffering).
BODY_HIGH_WATER: Final = 256 * 1024
_PARTITION: Final = bytes.partition  # see raw_head


class Request:
    """One parsed request head; `headers` are as sent (original case, original order)."""

    __slots__ = (
        "_lower",
        "body",
        "client_ip",
        "client_port",
        "context",
        "expect_continue",
        "headers",
        "host",
        "keep_alive",
        "method",
        "path",
        "query",
        "scheme",
        "server_port",
        "source",
        "started_at",
        "target",
        "tls_version",
        "version",
    )

    def __init__(
        self,
        method: bytes,
        target: bytes,
        path: bytes,
        query: bytes,
        version: bytes,
        headers: list[Header],
        host: bytes,
        keep_alive: bool,
        client_ip: str,
        client_port: int,
        scheme: str,
        server_port: int,
        tls_version: str | None,
        body: Body | None = None,
        expect_continue: bool = False,
        started_at: float = 0.0,
        context: object = None,
        _lower: HeaderIndex | None = None,
        source: bytes | None = None,
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.host = host
        self.keep_alive = keep_alive
        self.client_ip = client_ip
        self.client_port = client_port
        self.scheme = scheme
        self.server_port = server_port
        self.tls_version = tls_version
        self.body = body
        self.expect_continue = expect_continue
        self.started_at = started_at
        self.context = context  # what the fast path decided, handed to the slow path
        self._lower = _lower
        self.source = source  # the read this request's head began, when it began one

    def raw_head(self) -> bytes | None:
        """The head as received, request line through its last field's value (without the CRLF
        that ends that line and the blank line), when the read that brought it began with it and
        held it whole; else None (split across reads, pipelined)."""
        source = self.source
        method = self.method
        size = len(method)
        if source is None or len(source) <= size or source[size] != 32 or not source.startswith(method):
            return None  # starting mid-request (a method split across reads) or after empty lines
        # partition takes one argument: no argument parsing, unlike find (compiled, per request);
        # called as a function, with no lookup by name.
        head, blank, _ = _PARTITION(source, b"\r\n\r\n")
        return head if blank else None

    def __repr__(self) -> str:
        # Headers are left out: they may carry the origin secret.
        return f"Request({self.method!r} {self.target!r} from {self.client_ip})"

    def header_values(self, lower_name: bytes) -> tuple[bytes, ...]:
        """Every value of a field, by lower-cased name (the index is built on first use)."""
        return self.header_index().get(lower_name, NO_VALUES)

    def header_index(self) -> HeaderIndex:
        """Lower-cased name → values, for every field (built on first use)."""
        if self._lower is None:
            self._lower = index_headers(self.headers)
        return self._lower

    def header(self, lower_name: bytes) -> bytes | None:
        """The first value of a field, or None."""
        values = self.header_values(lower_name)
        return values[0] if values else None


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
