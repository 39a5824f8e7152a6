"""Streaming response writer for the slow path (a handler task); the fast path writes bytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from originguard.http.endpoints import ViewerEnd
from originguard.http.interim import interim_head
from originguard.http.message import Request
from originguard.http.wire import render_head

Header = tuple[bytes, bytes]

# RFC 9110 §6.4.1: these responses never carry content.
NO_BODY_STATUSES = frozenset({204, 304}) | frozenset(range(100, 200))


def has_date(headers: list[Header]) -> bool:
    """Does a head already carry Date: a proxied response keeps its upstream's (RFC 9110
    §6.6.1), as the relay does; adding ours too made two Date fields (#16)."""
    return any(len(name) == 4 and name.lower() == b"date" for name, _ in headers)


class ResponseWriter:
    """Writes one response: whole (`send`) or streamed (`start`, `write`..., `end`)."""

    __slots__ = (
        "_pending_head",
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

    def __init__(self, conn: ViewerEnd, request: Request) -> None:
        self.conn = conn
        self.request = request
        self.started = False
        self.finished = False
        self.chunked = False
        self.close_after = False
        self.status = 0
        self.bytes_sent = 0
        self.head_only = request.method == b"HEAD"
        self._pending_head = b""

    @property
    def keep_alive(self) -> bool:
        return self.request.keep_alive and not self.close_after and not self.conn.draining

    async def send(self, status: int, headers: Sequence[Header], body: bytes) -> None:
        """Send a whole response with Content-Length (or none where the status forbids a body)."""
        all_headers = list(headers)
        if status not in NO_BODY_STATUSES:
            all_headers.append((b"Content-Length", b"%d" % len(body)))
        self._begin(status)
        head = render_head(status, all_headers, keep_alive=self.keep_alive, date=not has_date(all_headers))
        payload = head if self.head_only or status in NO_BODY_STATUSES else head + body
        self.conn.write(payload)
        self.bytes_sent += len(payload)
        self.finished = True
        await self.conn.drain()

    def send_interim(self, wire: bytes) -> None:
        """Send an interim (1xx) head before the response: an upstream's 103 passed on, or an
        app's own. Dropped for an HTTP/1.0 client (RFC 9110 §15.2) and once the response started."""
        if self.started or self.request.version != b"1.1":
            return
        self.conn.write(wire)
        self.bytes_sent += len(wire)

    def interim_sink(self, cuts: frozenset[bytes], added: bytes = b"") -> Callable[[int, bytes], None]:
        """An `on_interim` for the upstream client (http/client.py): each interim head that goes
        on reaches this client without the `cuts` fields, with `added` lines."""

        def send(status: int, raw: bytes) -> None:
            self.send_interim(interim_head(raw, cuts, added))

        return send

    def switch_protocols(self, wire: bytes) -> None:
        """Send a 101 head (http/upgrade.py `switching_head`): the HTTP exchange ends here, and
        the connection is a tunnel's from now on (`conn.take_over`), never reused for HTTP."""
        self._begin(101)
        self.close_after = True
        self.conn.write(wire)
        self.bytes_sent += len(wire)
        self.finished = True

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
        head = render_head(status, all_headers, keep_alive=self.keep_alive, date=not has_date(all_headers))
        self.bytes_sent += len(head)
        if self.head_only or status in NO_BODY_STATUSES:
            self.head_only = True
            self.conn.write(head)
            await self.conn.drain()
        else:
            self._pending_head = head  # one write with the first body chunk: one syscall, one TLS record

    async def write(self, data: bytes) -> None:
        """Send a piece of the body (respecting the client's read speed)."""
        if not data or self.head_only:
            return
        framed = b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data
        if self._pending_head:
            framed = self._pending_head + framed
            self._pending_head = b""
        self.conn.write(framed)
        self.bytes_sent += len(data)
        await self.conn.drain()

    async def end(self) -> None:
        """Finish a streamed response."""
        tail = b"0\r\n\r\n" if self.chunked else b""
        if self._pending_head or tail:
            self.conn.write(self._pending_head + tail)
            self._pending_head = b""
        self.finished = True

    def _begin(self, status: int) -> None:
        if self.started:
            raise RuntimeError("response already started")
        self.started = True
        self.status = status
