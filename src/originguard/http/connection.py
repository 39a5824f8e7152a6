# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""One HTTP/1.1 server connection: strict parsing, pipelining in order, timeouts, back-pressure.

The parser callbacks do the fast path themselves: a request without a body is offered to
`app.respond_now`, and when that returns bytes (a cache hit, a gate deny) they are written at once,
with no coroutine. Everything else runs `app.handle` as one task per request, in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Final, Protocol, cast

import httptools

from originguard.errors import BadRequest, HeadersTooLarge, ProtocolError, RequestTimeout, UriTooLong
from originguard.http.app import HttpApp
from originguard.http.body import BODY_HIGH_WATER, Body
from originguard.http.endpoints import RelayEnd, ViewerEnd
from originguard.http.field_names import UnderscorePolicy, kept_fields
from originguard.http.headers import LOWER
from originguard.http.limits import Limits
from originguard.http.message import Request
from originguard.http.request_checks import HeaderIndex, check_head, index_headers, version_rejection
from originguard.http.wire import error_response, not_connected
from originguard.http.writer import ResponseWriter

log = logging.getLogger("originguard.http")

# Final: compiled, these are constants, not module dict lookups in every callback.
IDLE: Final = 0
HEAD: Final = 1
BODY: Final = 2
PIPELINE_DEPTH: Final = 16  # queued requests beyond this pause reading instead of growing memory
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_UNDERSCORE: Final = 95  # b"_"[0], here: a Final of an interpreted module is a dict lookup per read


def _line_version(source: bytes, method: bytes, target: bytes) -> str:
    """The version ending the request line `method SP target SP version CRLF` that `source` (a
    read) begins with ("1.1", "1.0"), else "": read at its offset, with no search."""
    if not source.startswith(method):
        return ""  # empty lines first, or the rest of a method split across reads: ask llhttp
    at = len(method) + len(target) + 1
    ending = source[at : at + 11]
    if ending == b" HTTP/1.1\r\n":
        return "1.1"
    if ending == b" HTTP/1.0\r\n":
        return "1.0"
    return ""


class Serving(Protocol):
    """What a connection needs of the server that accepted it (http.server.HttpServer, or the
    server of the TLS layer, http.tls_server). A protocol rather than an import: the server makes
    the connections, and is not compiled, so a native base would gain nothing."""

    @property
    def app(self) -> HttpApp: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...
    @property
    def draining(self) -> bool: ...
    @property
    def underscores(self) -> UnderscorePolicy | None: ...
    @property
    def connections(self) -> set[HttpConnection]: ...
    @property
    def on_connect(self) -> Callable[[asyncio.Transport, str], None] | None: ...

    def on_rejected(self, conn: HttpConnection, error: ProtocolError) -> None: ...


class HttpConnection(ViewerEnd):
    """asyncio protocol for one client connection."""

    def __init__(self, server: Serving, scheme: str) -> None:
        self.server = server
        self.app = server.app
        self.limits = server.limits
        self.loop = server.loop
        self.scheme = scheme
        self.parser = httptools.HttpRequestParser(self)
        # Bound once: calling a method by name from compiled code looks it up on every call.
        self._feed: Callable[[bytes], None] = self.parser.feed_data
        self._method: Callable[[], bytes] = self.parser.get_method
        self._send: Callable[[bytes], object] = not_connected
        self._clock: Callable[[], float] = self.loop.time
        self.relay: RelayEnd | None = None
        # After a WebSocket handshake's 101 (http/tunnel.py): the protocol this connection's
        # events go to, and before it takes over, what followed the upgrade request's head.
        self.tunnel: asyncio.Protocol | None = None
        self.upgrade_tail: bytes | None = None
        self.transport: asyncio.Transport | None = None
        self.state = IDLE
        self.deadline = self.loop.time() + self.limits.header_timeout
        self.queue: deque[Request] = deque()
        self._enqueue = self.queue.append  # bound once, like _feed
        self._dequeue = self.queue.popleft
        self.busy = False
        self.closed = False
        # The server's flag, copied: read per request, and the server is not compiled (an attribute
        # hop through a dict). Set by `shutdown`, and on connection_made for late handshakes.
        self.draining = server.draining
        self.rejected: ProtocolError | None = None
        self.ignoring = False  # closed or rejected: further bytes are dropped
        self.rejected_request: Request | None = None
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None
        self.reading_paused = False
        self.client_ip = ""
        self.client_port = 0
        self.server_port = 0
        self.tls_version: str | None = None
        self.forwarded_lines = b""  # a proxying app's X-Forwarded-* lines (ViewerEnd)
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._index: HeaderIndex = {}
        self._head_bytes = 0
        self._parsing: Request | None = None
        self.now = self.loop.time()
        self.last_answered_now = False
        self._source: bytes | None = None  # the read a request began with (Request.raw_head)
        self._read = b""  # the read being parsed
        # Copied out of `limits` (not compiled: a dict lookup per read): read per field or request.
        self.max_uri_bytes = server.limits.max_uri_bytes
        self.max_header_bytes = server.limits.max_header_bytes
        self.max_header_count = server.limits.max_header_count
        self.header_timeout = server.limits.header_timeout
        self.max_body_bytes = server.limits.max_body_bytes
        self.body_timeout = server.limits.body_timeout
        self.keepalive_timeout = server.limits.keepalive_timeout
        # The listener's rule for `_` in field names (http/field_names.py); None keeps every field.
        self.underscores: UnderscorePolicy | None = server.underscores

    # -- asyncio callbacks -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self._send = self.transport.write
        peer = transport.get_extra_info("peername") or ("", 0)
        self.client_ip, self.client_port = str(peer[0]), int(peer[1])
        sock = transport.get_extra_info("sockname") or ("", 0)
        self.server_port = int(sock[1])
        ssl_object = transport.get_extra_info("ssl_object")
        self.tls_version = ssl_object.version() if ssl_object is not None else None
        self.draining = self.server.draining
        self.server.connections.add(self)
        if self.server.on_connect is not None:
            self.server.on_connect(self.transport, self.client_ip)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self.ignoring = True
        self.server.connections.discard(self)
        if self.tunnel is not None:
            self.tunnel.connection_lost(exc)
        if self.relay is not None:
            self.relay.on_client_lost()
            self.relay = None
        if self._parsing is not None and self._parsing.body is not None:
            self._parsing.body.fail(ConnectionResetError("client closed the connection"))
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_exception(ConnectionResetError("client closed the connection"))

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.relay is not None:
            self.relay.pause()  # the client reads slowly: so do we, from the upstream
        elif self.tunnel is not None:
            self.tunnel.pause_writing()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.relay is not None:
            self.relay.resume()
        elif self.tunnel is not None:
            self.tunnel.resume_writing()
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self.ignoring:
            if self.tunnel is not None:
                self.tunnel.data_received(data)
            elif self.upgrade_tail is not None and not self.closed:
                self.upgrade_tail += data  # read before the pause took effect (a TLS record's rest)
            return
        # One clock read per read(): every request of this chunk shares it (deadlines have a
        # one-second resolution, and uvloop's clock only moves between loop iterations anyway).
        now = self.now = self._clock()
        self._read = data
        if self.state == IDLE:
            self.state = HEAD
            self.deadline = now + self.header_timeout
            self._source = data
        try:
            self._feed(data)
        except httptools.HttpParserUpgrade as exc:
            # llhttp stops after an upgrade request's head (Upgrade with Connection: upgrade, or
            # CONNECT). The app may tunnel a WebSocket handshake (`take_over`): what followed the
            # head is kept for it, and nothing more is read or parsed. Anything else is answered
            # as a plain request (Upgrade is hop-by-hop, never passed on), then the connection closes.
            self.ignoring = True
            self.upgrade_tail = data[int(exc.args[0]) :]
            self._pause_reading()
            if self.queue:
                self.queue[-1].keep_alive = False
            elif self.last_answered_now:
                self.close()
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if not isinstance(cause, ProtocolError):
                log.error("request handling failed", exc_info=cause)
                cause = BadRequest("the request could not be processed")
            self._reject(cause)
        except httptools.HttpParserError as exc:
            if str(exc) == "Invalid HTTP version":
                self._reject(version_rejection(self._version_part(data)))
            else:
                self._reject(BadRequest(f"malformed request: {exc}"))

    def _version_part(self, data: bytes) -> bytes | None:
        """The refused request line's bytes from its version on: the target (`on_url` had it
        whole) and a space lead to it. None when the line began in an earlier read."""
        at = data.find(self._url + b" HTTP/")
        return data[at + len(self._url) + 1 :] if at >= 0 and len(self._url) else None

    # -- httptools callbacks -----------------------------------------------------------------
    # Each callback is a Python call per request (per field for on_header), the largest cost of a
    # cache hit or a deny: there is no on_message_begin, and per-message state is reset when a
    # head is consumed instead.

    def on_url(self, url: bytes) -> None:
        if self.state == IDLE:  # a pipelined request that began in the same read
            self.state = HEAD
            self.deadline = self.now + self.header_timeout
        self._url += url
        if len(self._url) > self.max_uri_bytes:
            raise UriTooLong(f"request target over {self.max_uri_bytes} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        # The lower-cased index every later lookup (rules, cache, WAF) reuses, built in the same pass.
        lower = LOWER(name)
        found = self._index.get(lower)
        self._index[lower] = (value,) if found is None else (*found, value)
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > self.max_header_bytes or len(self._headers) > self.max_header_count:
            self._head_too_large()

    def _head_too_large(self) -> None:
        if self._head_bytes > self.max_header_bytes:
            raise HeadersTooLarge(f"header section over {self.max_header_bytes} bytes")
        raise HeadersTooLarge(f"more than {self.max_header_count} header fields")

    def on_headers_complete(self) -> None:
        if self.ignoring:
            return  # closed by an earlier request of the same read (Connection: close, draining)
        parser = self.parser
        method = self._method()
        target = self._url
        headers = self._headers
        index = self._index
        self._url = b""
        self._headers = []
        self._index = {}
        self._head_bytes = 0
        source = self._source
        self._source = None
        # The version from the request line this read began with (llhttp parsed the same bytes):
        # get_http_version() formats a new string per call.
        line_version = _line_version(source, method, target) if source is not None else ""
        if not line_version:
            line_version = parser.get_http_version()
        underscores = self.underscores
        # One memchr over the read in the common case (the head began and ended in this read):
        # most heads hold no `_` at all, and those that do mostly hold it in values, not names.
        # A head split across reads, or pipelined after another, has its names looked at.
        if underscores is not None and (source is None or source is not self._read or _UNDERSCORE in source):
            kept = kept_fields(headers, underscores)
            if kept is not None:
                headers = kept
                index = index_headers(kept)
                source = None  # the raw head still holds them: proxies render from `headers`
        path, query, version, host, has_body, expect_continue = check_head(
            method, target, line_version, index, self.max_body_bytes
        )
        # Without a Connection field, the version says it (RFC 9112 §9.3), as llhttp would: one
        # dict miss instead of a call by name.
        keep_alive = version == b"1.1" if b"connection" not in index else parser.should_keep_alive()
        # Positional: this runs per request and keyword construction costs twice as much.
        request = Request(
            method,
            target,
            path,
            query,
            version,
            headers,
            host,
            keep_alive and not self.draining,
            self.client_ip,
            self.client_port,
            self.scheme,
            self.server_port,
            self.tls_version,
            None,
            expect_continue,
            self.now,
            None,
            index,
            source,
        )
        if has_body:
            request.body = Body(self.max_body_bytes, self._resume_body, self._send_continue_for(request))
            self.state = BODY
            self.deadline = self.now + self.body_timeout
            self._parsing = request
        self._dispatch(request)

    def on_body(self, chunk: bytes) -> None:
        request = self._parsing
        if request is None or request.body is None:
            return  # the connection was closed while this request's head was parsed
        request.body.feed(chunk)
        self.deadline = self.now + self.body_timeout
        if request.body.buffered > BODY_HIGH_WATER:
            self._pause_reading()

    def on_message_complete(self) -> None:
        request = self._parsing
        if request is not None:
            if request.body is not None:
                request.body.finish()
            self._parsing = None
        self.state = IDLE
        if self.relay is None:  # a relay keeps its own deadline: the upstream's read timeout
            self.deadline = math.inf if self.queue else self.now + self.keepalive_timeout

    # -- dispatch ----------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> None:
        """Answer now, start the handler, or queue behind earlier requests (pipelining in order)."""
        queue = self.queue
        if queue:
            self.last_answered_now = False
            queue.append(request)
            if len(queue) > PIPELINE_DEPTH:
                self._pause_reading()
            return
        if request.body is None:
            # The hot path: nothing ahead of it, no body. A cache hit or a deny is written from
            # here, with no queue entry and no coroutine.
            answer = self.app.respond_now(request)
            if answer is not None:
                self._send(answer)
                self.last_answered_now = True
                if not request.keep_alive:
                    self.close()
                return
        self.last_answered_now = False
        self._enqueue(request)
        self.busy = True
        if not self.app.begin(request, self):
            self.loop.create_task(self._run(request))

    def _start(self, request: Request) -> None:
        """Serve the request at the head of the queue once the one before it is done."""
        if request.body is None:
            answer = self.app.respond_now(request)
            if answer is not None:
                self.write(answer)
                self._request_done(request, answered=True)
                return
        self.busy = True
        if not self.app.begin(request, self):
            self.loop.create_task(self._run(request))

    def run_handler(self, request: Request) -> None:
        """Serve a request the app took (`begin`) through its coroutine after all."""
        self.loop.create_task(self._run(request))

    def relay_done(self, request: Request, *, close: bool) -> None:
        """The app finished a request it took with `begin` (its response is written)."""
        self.busy = False
        self._request_done(request, answered=True, close=close)

    async def _run(self, request: Request) -> None:
        writer = ResponseWriter(self, request)
        try:
            await self.app.handle(request, writer)
            if not writer.finished:
                raise RuntimeError("handler returned without finishing its response")
        except ProtocolError as exc:
            if not writer.started:
                writer.close_after = True
                await writer.send(exc.status, [(b"Content-Type", b"text/plain")], exc.reason.encode() + b"\n")
        except (ConnectionError, asyncio.CancelledError):
            writer.close_after = True
        except Exception:
            log.exception("handler failed for %s %s", request.method.decode(), request.path.decode("latin-1"))
            writer.close_after = True
            if not writer.started:
                await writer.send(500, [(b"Content-Type", b"text/plain")], b"Internal Server Error\n")
        finally:
            self.busy = False
            self._request_done(request, answered=writer.started, close=writer.close_after)

    def _request_done(self, request: Request, *, answered: bool, close: bool = False) -> None:
        self._dequeue()
        if self.closed:
            return
        body_left = request.body is not None and not request.body.complete
        if self.rejected is not None:
            if self.rejected_request is not request or not answered:
                self.write(error_response(self.rejected.status, self.rejected.reason))
            self.close()
        elif close or body_left or not request.keep_alive or self.draining:
            self.close()  # unread body bytes would be parsed as the next request: never reuse
        elif self.queue:
            if self.reading_paused and len(self.queue) <= PIPELINE_DEPTH:
                self._resume_reading()
            self._start(self.queue[0])
        elif self.state == IDLE:
            self.deadline = self._clock() + self.keepalive_timeout

    def _reject(self, error: ProtocolError) -> None:
        """A request broke the rules: answer with its status once earlier responses are out, close."""
        self.rejected = error
        self.ignoring = True
        self.rejected_request = self._parsing
        self._pause_reading()
        self.server.on_rejected(self, error)
        if self._parsing is not None and self._parsing.body is not None:
            self._parsing.body.fail(error)
        if not self.busy and not self.queue:
            self.write(error_response(error.status, error.reason))
            self.close()

    # -- I/O helpers -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self._send(data)

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("client closed the connection")
        if self.write_paused:
            self.drain_waiter = self.loop.create_future()
            await self.drain_waiter

    def take_over(self, tunnel: asyncio.Protocol) -> tuple[asyncio.Transport, bytes] | None:
        """After a 101 is written: this connection's bytes and flow-control events go to `tunnel`
        from now on. Returns the transport and what the viewer sent after the handshake, or None
        when the viewer has gone."""
        if self.closed or self.transport is None:
            return None
        self.tunnel = tunnel
        self.ignoring = True
        self.deadline = math.inf  # the tunnel keeps its own idle deadline
        tail = self.upgrade_tail or b""
        self.upgrade_tail = None
        self._resume_reading()
        return self.transport, tail

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = self.ignoring = True
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.closed = self.ignoring = True
            self.transport.abort()

    def on_deadline(self) -> None:
        """Called by the server's clock when `deadline` passed: slowloris, stalled body, idle,
        or an upstream that stopped answering a relay."""
        if self.relay is not None:
            self.relay.on_timeout()
            return
        if self.tunnel is not None:
            return
        if self.state in (HEAD, BODY) and self.rejected is None:
            self.rejected = RequestTimeout("request timed out")
            self.ignoring = True
            self.rejected_request = self._parsing
            self.server.on_rejected(self, self.rejected)
            if self._parsing is not None and self._parsing.body is not None:
                self._parsing.body.fail(self.rejected)
            if self.busy:
                # The handler reading this body gets the 408 as an exception and answers (or cuts
                # off a started response); `_request_done` then closes the connection.
                self.deadline = math.inf
                return
            self.write(error_response(408, "request timed out"))
        self.close()

    def shutdown(self) -> None:
        """Graceful stop: idle connections close now, busy ones after their current response."""
        self.draining = True
        if self.tunnel is not None:
            self.close()  # a tunnel has no message boundary to wait for
        elif not self.busy and not self.queue and self.state == IDLE:
            self.close()

    def _send_continue_for(self, request: Request) -> Callable[[], None]:
        def send_continue() -> None:
            if request.expect_continue and not self.closed:
                self.write(CONTINUE)

        return send_continue

    def _pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume_body(self) -> None:
        if self.reading_paused and self.rejected is None and len(self.queue) <= PIPELINE_DEPTH:
            self._resume_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()
