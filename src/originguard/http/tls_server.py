# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Server-side TLS for viewer connections, over a plain uvloop TCP stream.

uvloop's own TLS transport is general: any protocol, client and server side, buffered reads, flow
control in both layers, a graceful unwrap that waits for the peer. Per proxied request that
generality cost about 12,000 instructions around OpenSSL's own work (bench/performance-history.md). This
layer does what an HTTP server's viewer side needs, with the same `ssl` memory BIOs and the same
C record methods, and hands plaintext to the `HttpConnection` directly:

    TCP stream ──▶ TlsServerLayer.data_received ─ handshake ─▶ HttpConnection.connection_made(layer)
                                                └ records ──▶ HttpConnection.data_received(plaintext)
    HttpConnection.write ─▶ TlsServerLayer.write ── records ──▶ TCP stream

When ALPN chose `h2`, an `http.h2_server.H2ServerProtocol` takes the HttpConnection's place.

Decisions, as nginx makes them: client-initiated renegotiation is refused (the context sets
OP_NO_RENEGOTIATION), a close sends close_notify and closes without waiting for the peer's, a
handshake that does not finish within the header timeout is dropped, and a TCP close without
close_notify ends the connection like any other close (HTTP/1.1 frames its own messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Any, Final, cast

from originguard.http.connection import HttpConnection, Serving
from originguard.http.wire import not_connected

log = logging.getLogger("originguard.http")

# A TLS record holds at most 16 KiB of plaintext and one read returns at most one record's: a
# read this size always drains a record, so `incoming.pending` alone says whether another waits.
RECORD_MAX: Final = 16 * 1024


class TlsServerLayer(asyncio.Protocol):
    """The TCP stream's protocol, and the transport of the HttpConnection above it."""

    def __init__(
        self,
        server: Serving,
        context: ssl.SSLContext,
        handshake_timeout: float,
        h2_factory: Callable[[], asyncio.Protocol] | None = None,
    ) -> None:
        self.server = server
        # Makes the protocol of a connection whose ALPN chose `h2` (http/h2_server.py); None: the
        # listener speaks HTTP/1.1 only (its context does not offer h2 either).
        self.h2_factory = h2_factory
        self.h2: asyncio.Protocol | None = None
        self.context = context
        self.handshake_timeout = handshake_timeout
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.ssl_object = context.wrap_bio(self.incoming, self.outgoing, server_side=True)
        # Bound once: per record, a method looked up by name from compiled code costs more than
        # the call. With our contexts these are the C methods themselves (http/tls.py).
        self._read: Callable[[int], bytes] = self.ssl_object.read
        self._write: Callable[[bytes], int] = self.ssl_object.write
        self._take_records: Callable[[], bytes] = self.outgoing.read
        self._put_records: Callable[[bytes], int] = self.incoming.write
        self._send: Callable[[bytes], object] = not_connected
        self.tcp: asyncio.Transport | None = None
        self.app: HttpConnection | None = None
        self.handshaking = True
        self.closed = False
        self.reading_paused = False
        self._timer: asyncio.TimerHandle | None = None

    # -- from the TCP stream -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tcp = cast(asyncio.Transport, transport)
        self._send = self.tcp.write
        self._timer = self.server.loop.call_later(self.handshake_timeout, self._handshake_timed_out)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self._put_records(data)
        if self.handshaking and not self._handshake():
            return
        self._read_records()

    def eof_received(self) -> bool:
        return False  # the stream closes; connection_lost tells the app

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self.app is not None:
            self.app.connection_lost(exc)
        elif self.h2 is not None:
            self.h2.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.app is not None:
            self.app.pause_writing()
        elif self.h2 is not None:
            self.h2.pause_writing()

    def resume_writing(self) -> None:
        if self.app is not None:
            self.app.resume_writing()
        elif self.h2 is not None:
            self.h2.resume_writing()

    # -- the transport the HttpConnection writes to --------------------------------------------

    def write(self, data: bytes) -> None:
        if self.closed or not len(data):
            return
        try:
            self._write(data)
        except ssl.SSLError as exc:
            self._fail("write", exc)
            return
        self._send(self._take_records())

    def close(self) -> None:
        if self.closed or self.tcp is None:
            return
        self.closed = True
        if not self.handshaking:
            with contextlib.suppress(ssl.SSLError):
                self.ssl_object.unwrap()  # close_notify; the peer's is not waited for
            self._flush()
        self.tcp.close()

    def abort(self) -> None:
        self.closed = True
        if self.tcp is not None:
            self.tcp.abort()

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        if not self.reading_paused and self.tcp is not None:
            self.reading_paused = True
            self.tcp.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and self.tcp is not None:
            self.reading_paused = False
            self.tcp.resume_reading()
            if self.incoming.pending:  # records that arrived before the pause
                self.server.loop.call_soon(self._read_records)

    def get_write_buffer_size(self) -> int:
        return self.tcp.get_write_buffer_size() if self.tcp is not None else 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self.ssl_object
        if name == "sslcontext":
            return self.context
        if name == "cipher":
            return self.ssl_object.cipher()
        if name == "peercert":
            return self.ssl_object.getpeercert()
        return self.tcp.get_extra_info(name, default) if self.tcp is not None else default

    # -- internals ---------------------------------------------------------------------------

    def _handshake(self) -> bool:
        """Advance the handshake; True once it is done and the app is connected."""
        try:
            self.ssl_object.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return False
        except ssl.SSLError as exc:
            self._flush()  # the alert tells the client why
            self._fail("handshake", exc)
            return False
        self.handshaking = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._flush()
        if self.h2_factory is not None and self.ssl_object.selected_alpn_protocol() == "h2":
            h2 = self.h2 = self.h2_factory()
            h2.connection_made(self)  # type: ignore[arg-type]  # a transport in all but its base class
            return not self.closed
        app = self.app = HttpConnection(self.server, "https")
        app.connection_made(self)  # type: ignore[arg-type]  # a transport in all but its base class
        return not self.closed

    def _read_records(self) -> None:
        """Hand the plaintext of every whole record received to the app, in order."""
        app = self.app
        if app is None:
            if self.h2 is not None:
                self._read_h2_records(self.h2)
            return
        while not self.closed and not self.reading_paused:
            try:
                plaintext = self._read(RECORD_MAX)
            except ssl.SSLWantReadError:
                break  # the rest of a record is still on its way
            except ssl.SSLError as exc:
                self._fail("read", exc)
                return
            if not len(plaintext):  # close_notify: the client is done
                self.close()
                return
            app.data_received(plaintext)
            if not self.incoming.pending:
                break
        if self.outgoing.pending:  # what reading produced (TLS 1.3 key updates, alerts)
            self._flush()

    def _read_h2_records(self, h2: asyncio.Protocol) -> None:
        """`_read_records` for an HTTP/2 connection (kept apart: the HTTP/1.1 loop calls its
        connection natively, compiled, and this one through Python)."""
        while not self.closed and not self.reading_paused:
            try:
                plaintext = self._read(RECORD_MAX)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLError as exc:
                self._fail("read", exc)
                return
            if not len(plaintext):
                self.close()
                return
            h2.data_received(plaintext)
            if not self.incoming.pending:
                break
        if self.outgoing.pending:
            self._flush()

    def _flush(self) -> None:
        records = self._take_records()
        if len(records) and self.tcp is not None and not self.tcp.is_closing():
            self._send(records)

    def _fail(self, stage: str, exc: ssl.SSLError) -> None:
        log.debug("TLS %s failed: %s", stage, exc)
        self.abort()

    def _handshake_timed_out(self) -> None:
        self._timer = None
        if self.handshaking and not self.closed:
            log.debug("TLS handshake timed out after %gs", self.handshake_timeout)
            self.abort()
