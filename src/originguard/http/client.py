# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Pooled HTTP/1.1 client to upstreams (origins, targets): keep-alive, LIFO idle lists, timeouts.

Upstream connections are plain `asyncio.Protocol`s: uvloop hands each read over as bytes, which
the head scan slices as they are. (As a `BufferedProtocol` reading into one reused buffer, every
read cost a `get_buffer` call and a bytearray copy, and the head a bytes() conversion: about
1,500 instructions a response more. uvloop's TLS path reads into a fresh 256 KiB object for a
`Protocol` and shrinks it, about 700 instructions: the lesser cost.) A response
goes either to a coroutine (`request` → `UpstreamResponse.read`) or, for the proxy fast path, to a
`Relay` that streams it to a client connection from the read callbacks (http/relay.py).

Response framing (RFC 9112 §6.3): Content-Length, chunked, or — a Transfer-Encoding whose last
coding is not chunked, or neither field — the body runs until the upstream closes. Bytes after a
complete message are not a next response (we sent one request): the message stands and the
connection is not reused.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Final, cast

import httptools

from originguard.errors import UpstreamError, UpstreamErrorKind
from originguard.http.interim import interim_action
from originguard.http.relay import Relay, RelayUpstream
from originguard.http.response_head import HOP_BY_HOP_CUTS, fields_of, keeps_alive, scan_head, status_at
from originguard.http.wire import not_connected

Header = tuple[bytes, bytes]
# Where a coroutine caller wants the interim (1xx) heads that go on (http/interim.py): status and
# the head as received (status line through its last field's CRLF), before the final response.
InterimSink = Callable[[int, bytes], None]
MAX_RESPONSE_HEAD: Final = 64 * 1024  # received without the head ending: refused (nginx: proxy_buffer_size)
RESPONSE_HIGH_WATER: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where to connect: address, TLS (None = plain HTTP) and the name to verify."""

    host: str
    port: int
    tls: ssl.SSLContext | None = None
    server_name: str | None = None

    @property
    def key(self) -> tuple[str, int, bool, str | None]:
        return (self.host, self.port, self.tls is not None, self.server_name)


class UpstreamResponse:
    """A response head plus its body, streamed from the connection."""

    def __init__(
        self, conn: UpstreamConnection, status: int, headers: list[Header], length: int | None
    ) -> None:
        self.status = status
        self.headers = headers
        self.length = length  # the body length when Content-Length frames it, else None
        self._conn = conn

    async def read(self) -> bytes:
        """The next body chunk, or b"" at the end (the connection then goes back to its pool)."""
        return await self._conn.read_body()

    async def read_all(self, limit: int = 64 * 1024 * 1024) -> bytes:
        """The whole body; over `limit` raises UpstreamError."""
        parts: list[bytes] = []
        size = 0
        while chunk := await self.read():
            size += len(chunk)
            if size > limit:
                self._conn.abort()
                raise UpstreamError("protocol", f"response body over {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def discard(self) -> None:
        """Drop the body unread; the connection cannot be reused."""
        self._conn.abort()

    @property
    def connection(self) -> UpstreamConnection:
        """The connection it came on (a 101's, to detach for a tunnel)."""
        return self._conn


class UpstreamConnection(RelayUpstream):
    """One keep-alive connection speaking to an upstream; one request at a time."""

    def __init__(
        self, pool: UpstreamPool, key: tuple[str, int, bool, str | None], read_timeout: float
    ) -> None:
        self.pool = pool
        self.key = key
        self.read_timeout = read_timeout
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        # Bound once: calling a method by name from compiled code looks it up on every call.
        self._feed: Callable[[bytes], None] = self.parser.feed_data
        self._send: Callable[[bytes], object] = not_connected
        self.closed = False
        self.idle_since = 0.0
        self.head_request = False
        self._status = 0
        self._head: asyncio.Future[UpstreamResponse] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._done = False
        self._got_bytes = False
        self._body_waiter: asyncio.Future[None] | None = None
        self._error: UpstreamError | None = None
        self._paused = False
        self._keep_alive = True
        # The current response's reads until its head ended (the head is read from them whole:
        # http/response_head.py), and where the final head starts in them (after 1xx heads).
        self._received: bytes | bytearray | None = None  # a bytearray once a head spans reads
        self._head_from = 0
        self._head_done = False
        self._released = False
        self._until_close = False  # the body is delimited by the upstream closing (RFC 9112 §6.3)
        self.chunked_response = False
        self.relay: Relay | None = None
        self.interim_sink: InterimSink | None = None  # the coroutine path's, for the current request
        self._interims = 0  # interim heads of the current response so far
        self.idle_list: list[UpstreamConnection] | None = None  # its pool's idle list, once known
        # An upgrade request is out (a WebSocket handshake): a 101 then ends the HTTP exchange
        # and the connection leaves its pool for a tunnel (`detach`, http/tunnel.py).
        self.upgrading = False
        self.switched = False
        self._after_switch = b""  # what followed the 101 head in its read: the tunnel's first bytes

    # -- asyncio -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self._send = self.transport.write

    def data_received(self, data: bytes) -> None:
        if not self._head_done:
            received = self._received
            if received is None:
                self._received = data
            elif isinstance(received, bytearray):
                received += data
            else:  # a head over several reads: gathered in a bytearray (no quadratic copying)
                self._received = bytearray(received) + data
        self._got_bytes = True
        try:
            self._feed(data)
        except httptools.HttpParserUpgrade:
            pass  # llhttp stops after a 101's head: `_switch` has taken what follows
        except httptools.HttpParserError as exc:
            if self.closed:
                return  # a callback refused the response (an interim head) and aborted
            if self._done:
                self._keep_alive = False  # bytes after the response we asked for: never reuse
            else:
                self._fail(UpstreamError("protocol", f"invalid response: {exc}"))
                self.abort()
                return
        if self.closed:
            return  # a callback refused the response and aborted: it has already failed
        if not self._head_done and self._received is not None and len(self._received) > MAX_RESPONSE_HEAD:
            # As nginx's "upstream sent too big header": a 502, not unbounded memory.
            self._fail(UpstreamError("protocol", f"response head over {MAX_RESPONSE_HEAD} bytes"))
            self.abort()
            return
        if self.relay is not None:
            self.relay.after_read()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if not self._done and self._until_close and exc is None:
            self._keep_alive = False
            self.on_message_complete()  # the close is the end of this body (RFC 9112 §6.3)
            if self.relay is not None:
                self.relay.after_read()
            return
        if not self._done:
            kind: UpstreamErrorKind = "tls" if isinstance(exc, ssl.SSLError) else "closed"
            self._fail(UpstreamError(kind, "upstream closed the connection before the response ended"))

    # -- httptools ---------------------------------------------------------------------------

    # No on_message_begin or on_header: httptools then makes no call per field (response_head.py).

    def on_headers_complete(self) -> None:
        if self.closed:
            return  # refused already (the parser goes on through the rest of the read)
        received = self._received
        assert received is not None  # this read was added to it before the parser saw it
        status = status_at(received, self._head_from) if isinstance(received, bytes) else 0
        if not status:
            status = self.parser.get_status_code()
        end = received.find(b"\r\n\r\n", self._head_from)
        if 100 <= status < 200:
            self._interim(status, received, end)
            return
        self._head_done = True
        relay = self.relay
        cuts = relay.handler.dropped(relay) if relay is not None else HOP_BY_HOP_CUTS
        raw = received[self._head_from : end + 2]
        head = scan_head(raw if isinstance(raw, bytes) else bytes(raw), cuts)
        self._received = None
        self._status = status
        keep_alive = keeps_alive(head, status)
        self._keep_alive = self.parser.should_keep_alive() if keep_alive < 0 else keep_alive == 1
        no_body = self.head_request or status == 204 or status == 304
        length = head.length
        codings = head.codings  # framing (RFC 9112 §6.3)
        self.chunked_response = self._until_close = False
        if not no_body:
            if codings is not None:
                self.chunked_response = codings.rpartition(b",")[2].strip() == b"chunked"
                self._until_close = not self.chunked_response
            else:
                self._until_close = length is None
        if relay is not None:
            relay.on_head(status, head)
        else:
            known = None if self.chunked_response or self._until_close or length is None else int(length)
            response = UpstreamResponse(self, status, head.fields(), known)
            if self._head is not None and not self._head.done():
                self._head.set_result(response)
        if no_body:
            # No body follows (RFC 9112 §6.3); a fresh parser keeps the connection usable.
            self.parser = httptools.HttpResponseParser(self)
            self._feed = self.parser.feed_data
            self.on_message_complete()

    def _interim(self, status: int, received: bytes | bytearray, end: int) -> None:
        """An interim response (RFC 9110 §15.2): pass it on or refuse it; the final one follows."""
        if status == 101 and self.upgrading:
            self._switch(received, end)
            return
        self._interims += 1
        action = interim_action(status, self._interims)
        # A head that came whole in one read is never over the limit in data_received's check.
        too_big = end + 2 - self._head_from > MAX_RESPONSE_HEAD
        if action == "refuse" or too_big:
            if too_big:
                what = f"an interim response head over {MAX_RESPONSE_HEAD} bytes"
            elif status == 101:
                what = "101 Switching Protocols it did not ask for"
            else:
                what = "too many interim responses"
            self._fail(UpstreamError("protocol", f"upstream sent {what}"))
            self.abort()
            return
        if action == "forward":
            raw = bytes(received[self._head_from : end + 2])
            relay = self.relay
            if relay is not None:
                relay.on_interim(status, raw)
            elif self.interim_sink is not None:
                self.interim_sink(status, raw)
        # The next head starts after this one; the bytes before it are dropped so the head size
        # limit (MAX_RESPONSE_HEAD) bounds each head, not the run of them.
        rest = received[end + 4 :]
        self._received = rest if len(rest) else None
        self._head_from = 0

    def _switch(self, received: bytes | bytearray, end: int) -> None:
        """The 101 to our upgrade request (RFC 9110 §15.2.2): the response is its head alone, and
        what follows is the new protocol's, for the tunnel; no byte more is read until it holds
        the transport."""
        self._head_done = self._done = self.switched = True
        self._keep_alive = False  # never back to a pool
        self._status = 101
        fields = fields_of(bytes(received[self._head_from : end + 2]))
        self._after_switch = bytes(received[end + 4 :])
        self._received = None
        self.pool.forget(self)
        if self.transport is not None:
            self.transport.pause_reading()
        if self._head is not None and not self._head.done():
            self._head.set_result(UpstreamResponse(self, 101, fields, None))

    def detach(self) -> tuple[asyncio.Transport, bytes] | None:
        """A switched connection's transport and the bytes that came after the 101, for a tunnel
        to take (its reading is paused until then); None once closed."""
        if not self.switched or self.closed or self.transport is None:
            return None
        after = self._after_switch
        self._after_switch = b""
        self.closed = True  # to this object: the tunnel's protocol gets the transport's events now
        return self.transport, after

    def on_body(self, chunk: bytes) -> None:
        if self.relay is not None:
            self.relay.on_body(chunk)
            return
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered > RESPONSE_HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._status and not self._done:
            self._done = True
            if self.relay is not None:
                self.relay.on_complete()
            else:
                self._wake()

    # -- request -----------------------------------------------------------------------------

    async def send(
        self,
        head: bytes,
        body: bytes | AsyncIterator[bytes] | None,
        chunked: bool,
        on_interim: InterimSink | None = None,
        upgrade: bool = False,
    ) -> UpstreamResponse:
        """Write a request and wait for the response head (read timeout applies); the interim heads
        that go on before it are given to `on_interim`. With `upgrade`, a 101 is the response."""
        assert self.transport is not None
        self._reset()
        self.upgrading = upgrade
        self.interim_sink = on_interim
        waiter = self._head = self.loop.create_future()
        if isinstance(body, bytes) or body is None:
            self.transport.write(head + (body or b""))
        else:
            self.transport.write(head)
            try:
                async for chunk in body:
                    if chunk:
                        self.transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            except BaseException:
                # Nobody will wait for this head now; an upstream failure already set on it is
                # superseded by the body's (else asyncio logs "exception never retrieved").
                if waiter.done() and not waiter.cancelled():
                    waiter.exception()
                waiter.cancel()
                raise
            if chunked:
                self.transport.write(b"0\r\n\r\n")
        try:
            return await asyncio.wait_for(self._head, self.read_timeout)
        except TimeoutError:
            self.abort()
            raise UpstreamError("timeout", f"no response within {self.read_timeout:g}s") from None

    def start_relay(self, relay: Relay, head: bytes, head_request: bool) -> None:
        """Hand the next response to `relay` and send a body-less request."""
        assert self.transport is not None
        self._reset()
        self._head = None
        self.interim_sink = None
        self.head_request = head_request
        self.relay = relay
        self._send(head)

    async def read_body(self) -> bytes:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._done:
                self.release()
                return b""
            self._body_waiter = self.loop.create_future()
            try:
                await asyncio.wait_for(self._body_waiter, self.read_timeout)
            except TimeoutError:
                self.abort()
                raise UpstreamError("timeout", f"response body stalled for {self.read_timeout:g}s") from None
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._paused and self._buffered < RESPONSE_HIGH_WATER and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return chunk

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        self.pool.forget(self)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def release(self, now: float = -1.0) -> None:
        """The response ended: back to the pool if the upstream keeps it alive (once per response)."""
        if self._released:
            return
        self._released = True
        if self._keep_alive and not self.closed:
            self.pool.give_back(self, now)
        else:
            self.abort()

    def _reset(self) -> None:
        self._released = False
        self.upgrading = False
        self._received = None
        self._head_from = 0
        self._head_done = False
        self._status = 0
        self._interims = 0
        if self._chunks:  # a relay never fills it: no call per request
            self._chunks.clear()
        self._buffered = 0
        self._done = False
        self._got_bytes = False
        self._error = None

    def _fail(self, error: UpstreamError) -> None:
        self._error = error
        if self.relay is not None:
            self.relay.on_error(error)
            return
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
        self._wake()

    def _wake(self) -> None:
        if self._body_waiter is not None and not self._body_waiter.done():
            self._body_waiter.set_result(None)


class UpstreamPool:
    """Keep-alive connections per upstream; the most recently used idle one is reused first (LIFO:
    warm connections stay warm, cold ones age out)."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        idle_timeout: float = 50.0,
        max_idle: int = 64,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.idle_timeout = idle_timeout
        self.max_idle = max_idle
        self._idle: dict[tuple[str, int, bool, str | None], list[UpstreamConnection]] = {}
        self.loop = asyncio.get_running_loop()

    async def request(
        self,
        upstream: Upstream,
        method: bytes,
        target: bytes,
        headers: Sequence[Header],
        body: bytes | AsyncIterator[bytes] | None = None,
        *,
        content_length: int | None = None,
        read_timeout: float | None = None,
        on_interim: InterimSink | None = None,
        upgrade: bool = False,
    ) -> UpstreamResponse:
        """Send one request; a reused connection that died idle is retried once for replayable
        requests. Interim heads that go on (http/interim.py) are given to `on_interim` first.
        With `upgrade` (the caller sent Connection/Upgrade fields) a 101 is the response, and its
        connection is the caller's to `detach` (UpstreamResponse.connection)."""
        chunked = body is not None and not isinstance(body, bytes) and content_length is None
        framing: list[Header] = []
        if isinstance(body, bytes) and (body or method in (b"POST", b"PUT", b"PATCH")):
            framing.append((b"Content-Length", b"%d" % len(body)))
        elif content_length is not None:
            framing.append((b"Content-Length", b"%d" % content_length))
        elif chunked:
            framing.append((b"Transfer-Encoding", b"chunked"))
        lines = [b"%s %s HTTP/1.1\r\n" % (method, target)]
        lines.extend(b"%s: %s\r\n" % h for h in (*headers, *framing))
        lines.append(b"\r\n")
        head = b"".join(lines)
        replayable = body is None or isinstance(body, bytes)
        while True:
            conn, reused = await self._connection(upstream, read_timeout)
            conn.head_request = method == b"HEAD"
            try:
                return await conn.send(head, body, chunked, on_interim, upgrade)
            except UpstreamError as exc:
                # RFC 9112 §9.3.1: a request on a reused connection that closed before any
                # response byte may be retried when it can be replayed; the server never saw it.
                if reused and replayable and exc.kind == "closed" and not conn.got_response_bytes:
                    continue
                raise
            except BaseException:
                conn.abort()  # the request body failed half-way: the upstream must not see the rest
                raise

    async def _connection(
        self, upstream: Upstream, read_timeout: float | None
    ) -> tuple[UpstreamConnection, bool]:
        idle = self._idle.get(upstream.key)
        now = self.loop.time()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.idle_timeout:
                conn.read_timeout = read_timeout or self.read_timeout
                return conn, True
            conn.abort()
        conn = await self._connect(upstream, read_timeout or self.read_timeout)
        return conn, False

    async def _connect(self, upstream: Upstream, read_timeout: float) -> UpstreamConnection:
        def factory() -> UpstreamConnection:
            return UpstreamConnection(self, upstream.key, read_timeout)

        try:
            _, protocol = await asyncio.wait_for(
                self.loop.create_connection(
                    factory,
                    upstream.host,
                    upstream.port,
                    ssl=upstream.tls,
                    server_hostname=(upstream.server_name or upstream.host) if upstream.tls else None,
                ),
                self.connect_timeout,
            )
        except TimeoutError:
            raise UpstreamError(
                "timeout", f"connect to {upstream.host}:{upstream.port} timed out", connecting=True
            ) from None
        except ssl.SSLError as exc:
            raise UpstreamError(
                "tls", f"TLS with {upstream.host}:{upstream.port} failed: {exc.reason}", connecting=True
            ) from None
        except OSError as exc:
            raise UpstreamError(
                "connect", f"connect to {upstream.host}:{upstream.port}: {exc.strerror}", connecting=True
            ) from None
        return protocol

    def idle_list(self, key: tuple[str, int, bool, str | None]) -> list[UpstreamConnection]:
        """The idle list of `key`'s upstream, for a caller that keeps it (`take_idle_from`): the
        same list for the pool's life."""
        return self._idle.setdefault(key, [])

    def take_idle(
        self, key: tuple[str, int, bool, str | None], now: float = -1.0
    ) -> UpstreamConnection | None:
        """A warm idle connection for `key`, or None (the relay path never connects). `now` is the
        loop's clock if the caller has it (a client connection's time of its last read will do
        against idle timeouts of tens of seconds), which saves a read."""
        idle = self._idle.get(key)
        return None if idle is None else self.take_idle_from(idle, now)

    def take_idle_from(self, idle: list[UpstreamConnection], now: float = -1.0) -> UpstreamConnection | None:
        """`take_idle` with the upstream's idle list at hand (`idle_list`): no key to hash."""
        if not idle:
            return None
        if now < 0.0:
            now = self.loop.time()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.idle_timeout:
                return conn
            conn.abort()
        return None

    def give_back(self, conn: UpstreamConnection, now: float = -1.0) -> None:
        """`conn` is idle again; `now` (the loop's clock, if the caller has it) saves a read."""
        idle = conn.idle_list
        if idle is None:
            idle = conn.idle_list = self._idle.setdefault(conn.key, [])
        if len(idle) >= self.max_idle:
            conn.abort()
            return
        conn.idle_since = now if now >= 0.0 else self.loop.time()
        idle.append(conn)

    def forget(self, conn: UpstreamConnection) -> None:
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in list(idle):
                conn.abort()
            idle.clear()  # kept by callers of idle_list
        self._idle.clear()
