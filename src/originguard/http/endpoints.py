# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The viewer's connection and a relay as the code between them sees each: apps (`begin`), relays
and response writers hold a `ViewerEnd`; the viewer's connection holds a `RelayEnd`.

`http.connection.HttpConnection` and `http.relay.Relay` are the one subclass of each, besides
`CallbackViewerEnd` (an HTTP/2 stream's end, whose owner is interpreted). Base classes
here, below app, writer, relay and connection, so none of those imports another one back (they
formed a knot of seven modules); native base classes rather than Protocols, so compiled callers
still reach these attributes and methods through the vtable (about a thousand instructions a
request for a Python-level lookup, http/app.py).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

from originguard.http.message import Request


class RelayEnd:
    """A relay as the viewer's connection sees it: told when the viewer goes or reads slowly."""

    def on_client_lost(self) -> None:
        """The viewer closed the connection before the response ended."""
        raise NotImplementedError

    def on_timeout(self) -> None:
        """The viewer's clock passed the deadline the relay set (the upstream's read timeout)."""
        raise NotImplementedError

    def pause(self) -> None:
        """The viewer reads slowly: stop reading the upstream."""
        raise NotImplementedError

    def resume(self) -> None:
        """The viewer caught up: read the upstream again."""
        raise NotImplementedError


class ViewerEnd(asyncio.Protocol):
    """One viewer's connection as the code that answers on it sees it."""

    loop: asyncio.AbstractEventLoop
    now: float  # the loop's time at the last read (one clock read per read)
    deadline: float  # when the connection's clock calls `on_deadline`
    draining: bool  # the server is shutting down: no keep-alive
    relay: RelayEnd | None  # the relay answering the current request, if one does
    # A proxying app's X-Forwarded-* lines for this connection's requests (client address,
    # scheme and port are the connection's), made on first use.
    forwarded_lines: bytes

    def write(self, data: bytes) -> None:
        """Send bytes to the viewer (dropped once the connection is closed)."""
        raise NotImplementedError

    async def drain(self) -> None:
        """Wait until the viewer reads what was written (back-pressure)."""
        raise NotImplementedError

    def run_handler(self, request: Request) -> None:
        """Serve a request the app took (`begin`) through its coroutine after all."""
        raise NotImplementedError

    def relay_done(self, request: Request, *, close: bool) -> None:
        """The app finished a request it took with `begin` (its response is written)."""
        raise NotImplementedError

    def take_over(self, tunnel: asyncio.Protocol) -> tuple[asyncio.Transport, bytes] | None:
        """Hand the connection to a tunnel after a 101 (http/tunnel.py): its transport and the
        bytes read after the handshake, or None when the viewer has gone."""
        raise NotImplementedError


class CallbackViewerEnd(ViewerEnd):
    """A `ViewerEnd` whose doings are callables: for viewers served by interpreted code (an HTTP/2
    stream, http/h2_server.py). Compiled code can subclass `ViewerEnd` only when compiled itself,
    and apps, relays and writers call it natively through the vtable: this class is that native
    end, and calls out to its owner."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        now: float,
        on_write: Callable[[bytes], None],
        on_drain: Callable[[], Awaitable[None]],
        on_run_handler: Callable[[Request], None],
        on_relay_done: Callable[[Request, bool], None],
    ) -> None:
        self.loop = loop
        self.now = now
        self.deadline = math.inf
        self.draining = False
        self.relay = None
        self.forwarded_lines = b""
        self._on_write = on_write
        self._on_drain = on_drain
        self._on_run_handler = on_run_handler
        self._on_relay_done = on_relay_done

    def write(self, data: bytes) -> None:
        self._on_write(data)

    async def drain(self) -> None:
        await self._on_drain()

    def run_handler(self, request: Request) -> None:
        self._on_run_handler(request)

    def relay_done(self, request: Request, *, close: bool) -> None:
        self._on_relay_done(request, close)

    def take_over(self, tunnel: asyncio.Protocol) -> tuple[asyncio.Transport, bytes] | None:
        # An HTTP/2 stream is never tunnelled: the handshake check admits HTTP/1.1 only.
        return None
