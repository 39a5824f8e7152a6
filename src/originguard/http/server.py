"""HTTP server: listeners, the clock that enforces timeouts, TLS sniffing, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Callable

from originguard.config.values import HostPort
from originguard.errors import ProtocolError
from originguard.http.app import HttpApp
from originguard.http.connection import HttpConnection
from originguard.http.field_names import UnderscorePolicy
from originguard.http.h2.streams import H2Limits
from originguard.http.h2_server import H2ServerProtocol
from originguard.http.limits import Limits
from originguard.http.tls_server import TlsServerLayer
from originguard.http.wire import DATE, error_response

log = logging.getLogger("originguard.http")

TLS_HANDSHAKE_RECORD = 0x16
PLAIN_HTTP_TO_TLS = error_response(400, "The plain HTTP request was sent to an HTTPS port")


class HttpServer:
    """Serves one app on any number of listeners (plain or TLS)."""

    def __init__(
        self,
        app: HttpApp,
        limits: Limits,
        *,
        tick: float = 1.0,
        on_connect: Callable[[asyncio.Transport, str], None] | None = None,
        underscores: UnderscorePolicy | None = None,
        h2: H2Limits | None = None,
    ) -> None:
        self.app = app
        # HTTP/2 on TLS listeners whose context offers h2 (http.tls.server_context(http2=True)).
        self.h2 = h2
        self.h2_connections: set[H2ServerProtocol] = set()
        # Proxies (edge, gate) drop `_` field names by default; apps behind them see what came.
        self.underscores = underscores
        self.on_connect = on_connect
        self.limits = limits
        self.loop = asyncio.get_running_loop()
        self.connections: set[HttpConnection] = set()
        self.draining = False
        self._servers: list[asyncio.AbstractServer] = []
        self._accept_tasks: list[asyncio.Task[None]] = []
        self._sockets: list[socket.socket] = []
        self._tick = tick
        self._clock = self.loop.create_task(self._run_clock())

    async def listen(
        self, address: HostPort, *, tls: ssl.SSLContext | None = None, reuse_port: bool = False
    ) -> HostPort:
        """Start a listener; returns the bound address (port 0 picks a free port)."""
        sock = _listening_socket(address, reuse_port=reuse_port)
        bound = sock.getsockname()
        if tls is None:
            server = await self.loop.create_server(
                lambda: HttpConnection(self, "http"), sock=sock, backlog=1024
            )
            self._servers.append(server)
        else:
            self._sockets.append(sock)
            self._accept_tasks.append(self.loop.create_task(self._accept_tls(sock, tls)))
        return HostPort(bound[0], bound[1])

    @property
    def _h2_factory(self) -> Callable[[], asyncio.Protocol] | None:
        h2 = self.h2
        if h2 is None:
            return None
        return lambda: H2ServerProtocol(self, h2)

    def on_rejected(self, conn: HttpConnection, error: ProtocolError) -> None:
        self.app.on_rejected(conn.client_ip, error.status, error.reason)

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish (up to `grace` seconds), then close."""
        self.draining = True
        for server in self._servers:
            server.close()
        for task in self._accept_tasks:
            task.cancel()
        for sock in self._sockets:
            sock.close()
        for conn in list(self.connections):
            conn.shutdown()
        for h2 in list(self.h2_connections):
            h2.shutdown()
        deadline = self.loop.time() + grace
        while (self.connections or self.h2_connections) and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(self.connections):
            conn.abort()
        for h2 in list(self.h2_connections):
            h2.abort()
        self._clock.cancel()

    async def _run_clock(self) -> None:
        # One timer for all connections: a deadline check per second costs less than a
        # call_later per request, and timeouts need no finer resolution.
        while True:
            # Wake at each second boundary too, so the Date header is never a second behind.
            await asyncio.sleep(min(self._tick, 1.0005 - time.time() % 1.0))
            DATE.refresh()
            now = self.loop.time()
            for conn in [c for c in self.connections if c.deadline < now]:
                conn.on_deadline()
            for h2 in list(self.h2_connections):
                h2.on_tick(now)  # its streams' deadlines and its own (stalls, idle)

    async def _accept_tls(self, sock: socket.socket, tls: ssl.SSLContext) -> None:
        sock.setblocking(False)
        while True:
            try:
                client, _ = await self.loop.sock_accept(sock)
            except OSError:
                if sock.fileno() < 0:
                    return
                await asyncio.sleep(0.01)  # EMFILE and friends: back off rather than spin
                continue
            self.loop.create_task(self._sniff_then_tls(client, tls))

    async def _sniff_then_tls(self, client: socket.socket, tls: ssl.SSLContext) -> None:
        """Peek at the first byte: plain HTTP on the TLS port gets a 400, as nginx does."""
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        readable: asyncio.Future[None] = self.loop.create_future()

        def on_readable() -> None:
            if not readable.done():
                readable.set_result(None)

        self.loop.add_reader(client.fileno(), on_readable)
        try:
            await asyncio.wait_for(readable, self.limits.header_timeout)
            first = client.recv(1, socket.MSG_PEEK)
        except (TimeoutError, OSError):
            first = b""
        finally:
            self.loop.remove_reader(client.fileno())
        if not first or self.draining:
            client.close()
            return
        if first[0] != TLS_HANDSHAKE_RECORD:
            with contextlib.suppress(OSError):
                client.send(PLAIN_HTTP_TO_TLS)
            self.app.on_rejected(_peer_ip(client), 400, "plain HTTP sent to the HTTPS port")
            client.close()
            return
        try:
            # Our own TLS layer over a plain stream (http/tls_server.py), not uvloop's `ssl=`.
            await self.loop.connect_accepted_socket(
                lambda: TlsServerLayer(self, tls, self.limits.header_timeout, self._h2_factory), client
            )
        except OSError as exc:
            log.debug("accepted connection failed: %s", exc)
            client.close()


def _listening_socket(address: HostPort, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((address.host, address.port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _peer_ip(client: socket.socket) -> str:
    try:
        return str(client.getpeername()[0])
    except OSError:
        return ""
