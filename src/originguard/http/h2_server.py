# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""HTTP/2 viewer connections: the asyncio shell around `h2.connection.H2ServerConnection`.

The TLS layer (`http/tls_server.py`) hands the plaintext of a connection whose ALPN chose `h2` to
an `H2ServerProtocol`. Each stream's request goes to the app through the same doors as an
HTTP/1.1 request (`HttpConnection._dispatch`): `respond_now`, then `begin` (a callback relay),
then `handle` as a task. The app sees the stream's `end`, a `CallbackViewerEnd` (a `ViewerEnd`
like the HTTP/1.1 connection, compiled where endpoints.py is, so that compiled apps may call
it), and writes HTTP/1.1 octets to it; `h2.response_translation` turns them into the stream's HEADERS
and DATA. So the WAF, the cache and the secret header work unchanged, and the edge still talks
HTTP/1.1 to the gate over its pooled connections.

    TLS plaintext ─▶ H2ServerProtocol.data_received ─▶ H2ServerConnection.receive ─▶ events
        RequestReceived ─▶ app.respond_now / begin / handle(request, ResponseWriter(H2Stream))
        DataReceived ─▶ request.body (acknowledged as the app reads it: flow control is back-pressure)
    H2Stream.write(HTTP/1.1 octets) ─▶ ResponseTranslator ─▶ send_headers / send_data ─▶ TLS layer

A stream's response waits for the client's flow-control window: above `STREAM_HIGH_WATER`
queued octets a relay stops reading its upstream and `drain()` waits, as on a slow HTTP/1.1 reader.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Protocol, cast

from originguard.errors import BodyTooLarge, ProtocolError
from originguard.http.app import HttpApp
from originguard.http.body import Body
from originguard.http.endpoints import CallbackViewerEnd
from originguard.http.field_names import UnderscorePolicy
from originguard.http.h2.connection import H2ServerConnection
from originguard.http.h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    RequestReceived,
    RequestRefused,
    StreamEnded,
    StreamReset,
)
from originguard.http.h2.request_head import HeadLimits, Origin
from originguard.http.h2.response_translation import ResponseTranslator, TranslationError
from originguard.http.h2.streams import INTERNAL_ERROR, H2Limits
from originguard.http.limits import Limits
from originguard.http.message import Request
from originguard.http.wire import error_response
from originguard.http.writer import ResponseWriter

log = logging.getLogger("originguard.http")

STREAM_HIGH_WATER = 64 * 1024  # queued response octets per stream before the app is held back
# Queued response octets per connection above which new streams wait to be served: a client that
# opens 100 streams for large cached objects and reads none cannot make us copy them all.
CONNECTION_HIGH_WATER = 4 * 1024 * 1024


class H2Serving(Protocol):
    """What an HTTP/2 connection needs of its server (`http.server.HttpServer`)."""

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
    def h2_connections(self) -> set[H2ServerProtocol]: ...
    @property
    def on_connect(self) -> Callable[[asyncio.Transport, str], None] | None: ...


class H2ServerProtocol(asyncio.Protocol):
    """One viewer's HTTP/2 connection over the TLS layer."""

    def __init__(self, server: H2Serving, limits: H2Limits) -> None:
        self.server = server
        self.app = server.app
        self.loop = server.loop
        self.h2_limits = limits
        self.transport: asyncio.Transport | None = None
        self.connection: H2ServerConnection | None = None
        self.streams: dict[int, H2Stream] = {}
        self.waiting: deque[H2Stream] = deque()  # requests not yet dispatched (CONNECTION_HIGH_WATER)
        self.write_paused = False
        self.reading = False  # inside data_received: writes wait for its end
        self.closed = False
        self.client_ip = ""

    # -- from the TLS layer ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername") or ("", 0)
        sock = transport.get_extra_info("sockname") or ("", 0)
        ssl_object = transport.get_extra_info("ssl_object")
        self.client_ip = str(peer[0])
        origin = Origin(
            self.client_ip,
            int(peer[1]),
            int(sock[1]),
            ssl_object.version() if ssl_object is not None else None,
        )
        limits = self.server.limits
        head_limits = HeadLimits(
            limits.max_header_bytes,
            limits.max_header_count,
            limits.max_uri_bytes,
            limits.max_body_bytes,
            self.server.underscores,
        )
        self.connection = H2ServerConnection(self.h2_limits, head_limits, origin, self.loop.time())
        self.server.h2_connections.add(self)
        if self.server.on_connect is not None:
            self.server.on_connect(self.transport, self.client_ip)
        if self.server.draining:
            self.connection.start_shutdown()
        self.flush()

    def data_received(self, data: bytes) -> None:
        connection = self.connection
        if connection is None or self.closed:
            return
        now = self.loop.time()
        for stream in self.streams.values():
            stream.end.now = now
        # The answers this read brings (cache hits, denies: often several streams' worth) go out
        # in one write, one TLS record run and one syscall, not one per stream.
        self.reading = True
        try:
            self._handle(connection.receive(data, now))
            self._wake_streams()
        finally:
            self.reading = False
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.h2_connections.discard(self)
        for stream in list(self.streams.values()):
            stream.lost(ConnectionResetError("client closed the connection"))
        self.streams.clear()

    def pause_writing(self) -> None:
        self.write_paused = True
        for stream in self.streams.values():
            stream.hold()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_streams()

    # -- from the server ---------------------------------------------------------------------

    def on_tick(self, now: float) -> None:
        """The server's clock (once a second): the connection's deadlines, then each relay's."""
        connection = self.connection
        if connection is None or self.closed:
            return
        self._handle(connection.tick(now))
        for stream in list(self.streams.values()):
            stream.end.now = now
            if stream.end.deadline < now:
                stream.on_deadline()
        self.flush()

    def shutdown(self) -> None:
        """Graceful stop: GOAWAY; the streams already open are answered, then the connection closes."""
        if self.connection is not None:
            self.connection.start_shutdown()
        self.flush()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # -- internals ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the connection queued; close once it has nothing more to do. Within a read,
        the read's end writes for all its streams."""
        connection = self.connection
        if connection is None or self.transport is None or self.closed or self.reading:
            return
        data = connection.data_to_send()
        if len(data):
            self.transport.write(data)
        if connection.should_close:
            self.closed = True
            self.transport.close()

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, RequestReceived):
                self._start(event)
            elif isinstance(event, DataReceived):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream.body_data(event.data, event.flow_length)
            elif isinstance(event, StreamEnded):
                stream = self.streams.get(event.stream_id)
                if stream is not None and stream.request.body is not None:
                    stream.request.body.finish()
            elif isinstance(event, StreamReset):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None:
                    stream.lost(ConnectionResetError(f"stream reset: {event.reason}"))
            elif isinstance(event, RequestRefused):
                self.app.on_rejected(self.client_ip, event.status, event.reason)
            elif isinstance(event, ConnectionTerminated) and not event.remote:
                log.debug("HTTP/2 connection error from %s: %s", self.client_ip, event.reason)
                self.app.on_rejected(self.client_ip, 400, event.reason)

    def _start(self, event: RequestReceived) -> None:
        request = event.request
        stream = H2Stream(self, event.stream_id, request)
        self.streams[event.stream_id] = stream
        if not event.end_stream:
            request.body = Body(self.server.limits.max_body_bytes, stream.body_drained, _nothing)
        if self.waiting or self._backlogged():
            self.waiting.append(stream)
            return
        self._dispatch(stream)

    def _dispatch(self, stream: H2Stream) -> None:
        """The HTTP/1.1 connection's dispatch, per stream: answer now, relay, or run the handler."""
        request = stream.request
        try:
            if request.body is None:
                answer = self.app.respond_now(request)
                if answer is not None:
                    stream.write(answer)
                    stream.finish()
                    return
            if not self.app.begin(request, stream.end):
                stream.run_handler(request)
        except ProtocolError as exc:  # as HttpConnection answers an app's refusal in its callbacks
            self.app.on_rejected(self.client_ip, exc.status, exc.reason)
            stream.write(error_response(exc.status, exc.reason))
            stream.finish()
        except Exception:
            log.exception("request handling failed for %s", request.path.decode("latin-1"))
            stream.fail()

    def _backlogged(self) -> bool:
        return self.connection is not None and self.connection.buffered_total > CONNECTION_HIGH_WATER

    def _wake_streams(self) -> None:
        if self.write_paused or self.connection is None:
            return
        for stream in list(self.streams.values()):
            if stream.held and self.connection.buffered(stream.stream_id) < STREAM_HIGH_WATER:
                stream.release()
        while self.waiting and not self._backlogged():
            stream = self.waiting.popleft()
            if not stream.gone:
                self._dispatch(stream)

    def stream_done(self, stream: H2Stream) -> None:
        if self.streams.get(stream.stream_id) is stream:
            del self.streams[stream.stream_id]
        self.flush()


class H2Stream:
    """One stream: its `end` is the `ViewerEnd` the app writes an HTTP/1.1 response to."""

    def __init__(self, owner: H2ServerProtocol, stream_id: int, request: Request) -> None:
        self.owner = owner
        self.stream_id = stream_id
        self.request = request
        self.loop = owner.loop
        # The app's side of the stream, native in a compiled build (http/endpoints.py): apps,
        # relays and writers read and set its `now`, `deadline`, `relay` and `forwarded_lines`.
        self.end = CallbackViewerEnd(
            owner.loop, owner.loop.time(), self.write, self.drain, self.run_handler, self._relay_done
        )
        self.end.draining = owner.server.draining
        self.translator = ResponseTranslator(request.method == b"HEAD")
        self.head_sent = False
        self.ended = False
        self.gone = False
        self.held = False
        self.waiter: asyncio.Future[None] | None = None
        self.unacked = 0  # body octets read from the client but not yet consumed by the app

    # -- the ViewerEnd's doings ------------------------------------------------------------

    def write(self, data: bytes) -> None:
        connection = self.owner.connection
        if self.gone or self.ended or connection is None:
            return
        translator = self.translator
        try:
            body = translator.feed(data)
        except TranslationError as exc:
            log.error("HTTP/2 stream %d: the app wrote no valid response: %s", self.stream_id, exc)
            self.fail()
            return
        if not self.head_sent:
            head = translator.head
            if head is None:
                return
            self.head_sent = True
            translator.head = None
            end = translator.complete and not len(body)
            connection.send_headers(self.stream_id, translator.status, head, end)
            if end:
                self.ended = True
        if len(body) or (translator.complete and not self.ended):
            connection.send_data(self.stream_id, body, translator.complete)
            self.ended = translator.complete
        if connection.buffered(self.stream_id) >= STREAM_HIGH_WATER:
            self.hold()
        self.owner.flush()

    async def drain(self) -> None:
        if self.gone:
            raise ConnectionResetError("the stream was reset")
        if self.held:
            self.waiter = self.loop.create_future()
            await self.waiter

    def run_handler(self, request: Request) -> None:
        self.loop.create_task(self._run(request))

    def _relay_done(self, request: Request, close: bool) -> None:
        self.finish()  # `close` is about an HTTP/1.1 connection: a stream just ends

    def on_deadline(self) -> None:
        """A relay's read timeout passed (the relay set `deadline`)."""
        end = self.end
        end.deadline = math.inf
        if end.relay is not None:
            end.relay.on_timeout()

    # -- from the connection -----------------------------------------------------------------

    def body_data(self, data: bytes, flow_length: int) -> None:
        body = self.request.body
        self.unacked += flow_length  # the client may send more once the app has read these
        if body is None or self.gone:
            return
        try:
            body.feed(data)
        except BodyTooLarge as exc:
            body.fail(exc)  # the handler reading it answers 413, as on HTTP/1.1

    def body_drained(self) -> None:
        """The app read body octets (Body calls this on each read): window them back (§6.9), so
        a connection holds at most its connection window of unread body, whatever its streams."""
        if self.unacked and self.owner.connection is not None and not self.gone:
            self.owner.connection.acknowledge(self.stream_id, self.unacked)
            self.unacked = 0
            self.owner.flush()

    def hold(self) -> None:
        if not self.held:
            self.held = True
            if self.end.relay is not None:
                self.end.relay.pause()

    def release(self) -> None:
        self.held = False
        if self.end.relay is not None:
            self.end.relay.resume()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def lost(self, error: Exception) -> None:
        """The stream was reset or the connection closed: stop the app's work on it."""
        if self.gone:
            return
        self.gone = True
        if self.end.relay is not None:
            self.end.relay.on_client_lost()
            self.end.relay = None
        if self.request.body is not None:
            self.request.body.fail(error)
        self._release_window()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    def finish(self) -> None:
        """The app is done with the response: end the stream (reset it if no response came)."""
        connection = self.owner.connection
        if not self.gone and not self.ended and connection is not None:
            if self.head_sent:
                connection.send_data(self.stream_id, b"", True)
            else:
                connection.reset_stream(self.stream_id, INTERNAL_ERROR)
        self.ended = True
        self._release_window()
        self.owner.stream_done(self)

    # -- internals ---------------------------------------------------------------------------

    async def _run(self, request: Request) -> None:
        writer = ResponseWriter(self.end, request)
        try:
            await self.owner.app.handle(request, writer)
            if not writer.finished:
                raise RuntimeError("handler returned without finishing its response")
        except ProtocolError as exc:
            if not writer.started:
                await writer.send(exc.status, [(b"Content-Type", b"text/plain")], exc.reason.encode() + b"\n")
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("handler failed for %s %s", request.method.decode(), request.path.decode("latin-1"))
            if not writer.started:
                await writer.send(500, [(b"Content-Type", b"text/plain")], b"Internal Server Error\n")
        finally:
            self.finish()

    def _release_window(self) -> None:
        """Body octets the app will never read still count against the connection's window."""
        if self.unacked and self.owner.connection is not None:
            self.owner.connection.acknowledge(self.stream_id, self.unacked)
            self.unacked = 0

    def fail(self) -> None:
        """The app failed this stream (an exception, octets that are no response): reset it."""
        connection = self.owner.connection
        if connection is not None and not self.ended:
            connection.reset_stream(self.stream_id, INTERNAL_ERROR)
        self.ended = True
        self.lost(ConnectionResetError("the app failed the stream"))
        self.owner.stream_done(self)


def _nothing() -> None:
    """A Body's first-read hook: HTTP/2 has no 100-continue to send (the client just sends)."""
    return None
