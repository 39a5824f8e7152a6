"""Streaming response writer for the slow path (a handler task); the fast path writes bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from originguard.http.message import Request
from originguard.http.wire import render_head

if TYPE_CHECKING:
    from originguard.http.connection import HttpConnection

Header = tuple[bytes, bytes]

# RFC 9110 §6.4.1: these responses never carry content.
NO_BODY_STATUSES = frozenset({204, 304}) | frozenset(range(100, 200))


class ResponseWriter:
    """Writes one response: whole (`send`) or streamed (`start`, `write`..., `end`)."""

    __slots__ = (
        "bytes_sent",
        "chunked",
        "close_after",
        "conn",
        "finished",
        "head_only",
        "request",
        "started",
        "status",
    )

    def __init__(self, conn: HttpConnection, request: Request) -> None:
        self.conn = conn
        self.request = request
        self.started = False
        self.finished = False
        self.chunked = False
        self.close_after = False
        self.status = 0
        self.bytes_sent = 0
        self.head_only = request.method == b"HEAD"

    @property
    def keep_alive(self) -> bool:
        return self.request.keep_alive and not self.close_after and not self.conn.server.draining

    async def send(self, status: int, headers: Sequence[Header], body: bytes) -> None:
        """Send a whole response with Content-Length (or none where the status forbids a body)."""
        all_headers = list(headers)
        if status not in NO_BODY_STATUSES:
            all_headers.append((b"Content-Length", b"%d" % len(body)))
        self._begin(status)
        head = render_head(status, all_headers, keep_alive=self.keep_alive)
        payload = head if self.head_only or status in NO_BODY_STATUSES else head + body
        self.conn.write(payload)
        self.bytes_sent += len(payload)
        self.finished = True
        await self.conn.drain()

    def send_prebuilt(self, status: int, wire: bytes) -> None:
        """Send a whole response rendered ahead of time (a fixed deny)."""
        self._begin(status)
        self.conn.write(wire)
        self.bytes_sent += len(wire)
        self.finished = True

    async def start(self, status: int, headers: Sequence[Header], content_length: int | None) -> None:
        """Send the head; `content_length=None` streams with chunked coding (close-delimited on 1.0)."""
        all_headers = list(headers)
        if status in NO_BODY_STATUSES:
            pass
        elif content_length is not None:
            all_headers.append((b"Content-Length", b"%d" % content_length))
        elif self.request.version == b"1.1":
            self.chunked = not self.head_only
            all_headers.append((b"Transfer-Encoding", b"chunked"))
        else:
            self.close_after = True  # HTTP/1.0 has no chunked coding: the close ends the body
        self._begin(status)
        head = render_head(status, all_headers, keep_alive=self.keep_alive)
        self.conn.write(head)
        self.bytes_sent += len(head)
        if self.head_only or status in NO_BODY_STATUSES:
            self.head_only = True
        await self.conn.drain()

    async def write(self, data: bytes) -> None:
        """Send a piece of the body (respecting the client's read speed)."""
        if not data or self.head_only:
            return
        if self.chunked:
            self.conn.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.conn.write(data)
        self.bytes_sent += len(data)
        await self.conn.drain()

    async def end(self) -> None:
        """Finish a streamed response."""
        if self.chunked:
            self.conn.write(b"0\r\n\r\n")
        self.finished = True

    def _begin(self, status: int) -> None:
        if self.started:
            raise RuntimeError("response already started")
        self.started = True
        self.status = status
