"""A byte pipe between a viewer's connection and an upstream's after a 101 (a WebSocket tunnel).

Once the upstream switched protocols, a proxy has no messages left to parse: each side's bytes
are written to the other as they come. What it keeps:

- back-pressure: when one side's transport buffers past its high-water mark (`pause_writing`),
  the other side's reading pauses until it drains (`resume_writing`), so a fast sender never
  grows our memory past two transport buffers;
- an idle deadline: no byte either way for `idle_timeout` seconds closes both sides (a WebSocket
  ping counts as traffic, so clients that keep a connection alive are never cut);
- one close: either side closing, or sending EOF, closes the other (after what it had buffered).

The viewer's side arrives as an `http.connection.HttpConnection` (`take_over` forwards its
events here, which works over our own TLS layer too); the upstream's as a detached
`http.client.UpstreamConnection`, whose transport gets this side as its protocol.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal, cast

from originguard.errors import UpstreamError
from originguard.http.client import UpstreamConnection, UpstreamResponse
from originguard.http.endpoints import ViewerEnd
from originguard.http.upgrade import is_websocket_switch, switching_head
from originguard.http.writer import ResponseWriter

CloseReason = Literal["viewer closed", "upstream closed", "idle timeout"]


@dataclass(frozen=True, slots=True)
class TunnelResult:
    """How a tunnel ended and what it carried (for the access log)."""

    reason: CloseReason
    bytes_up: int  # viewer → upstream
    bytes_down: int  # upstream → viewer


class TunnelSide(asyncio.Protocol):
    """One side's transport events; what it reads goes to the other side's transport."""

    def __init__(self, tunnel: Tunnel, closed_reason: CloseReason) -> None:
        self.tunnel = tunnel
        self.closed_reason = closed_reason
        self.transport: asyncio.Transport | None = None
        self.peer: TunnelSide | None = None
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        self.tunnel.last_activity = self.tunnel.loop.time()
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.write(data)

    def eof_received(self) -> bool:
        self.tunnel.close(self.closed_reason)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.tunnel.close(self.closed_reason)

    def pause_writing(self) -> None:
        # This side's buffer is full: stop reading what would be written to it.
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class Tunnel:
    """Two connections piped both ways until one goes or both idle; `done` has the result."""

    def __init__(self, loop: asyncio.AbstractEventLoop, idle_timeout: float) -> None:
        self.loop = loop
        self.idle_timeout = idle_timeout
        self.viewer = TunnelSide(self, "viewer closed")
        self.upstream = TunnelSide(self, "upstream closed")
        self.viewer.peer, self.upstream.peer = self.upstream, self.viewer
        self.last_activity = loop.time()
        self.done: asyncio.Future[TunnelResult] = loop.create_future()
        self._timer = loop.call_later(idle_timeout, self._check_idle)

    def close(self, reason: CloseReason) -> None:
        """End the tunnel: both transports close after writing what they hold."""
        if self.done.done():
            return
        self._timer.cancel()
        for side in (self.viewer, self.upstream):
            if side.transport is not None:
                side.transport.close()
        self.done.set_result(TunnelResult(reason, self.viewer.received, self.upstream.received))

    def _check_idle(self) -> None:
        # One timer re-armed for what is left, rather than a timer reset per read.
        left = self.last_activity + self.idle_timeout - self.loop.time()
        if left <= 0:
            self.close("idle timeout")
        else:
            self._timer = self.loop.call_later(left, self._check_idle)


async def tunnel_response(
    response: ResponseWriter,
    upstream: UpstreamResponse,
    idle_timeout: float,
    cuts: frozenset[bytes] = frozenset(),
) -> TunnelResult:
    """An upstream's 101 to our WebSocket handshake: send it on (without hop-by-hop and `cuts`
    fields) and pipe both connections until the tunnel ends. A 101 to another protocol was not
    asked for: UpstreamError (a 502), and the connection is dropped."""
    if not is_websocket_switch(upstream.status, upstream.headers):
        upstream.connection.abort()
        raise UpstreamError("protocol", "upstream switched to a protocol other than websocket")
    response.switch_protocols(switching_head(upstream.headers, cuts))
    return await run_tunnel(response.conn, upstream.connection, idle_timeout)


async def run_tunnel(viewer: ViewerEnd, upstream: UpstreamConnection, idle_timeout: float) -> TunnelResult:
    """Pipe `viewer` (its 101 already written) and `upstream` (switched) until the tunnel ends."""
    tunnel = Tunnel(viewer.loop, idle_timeout)
    detached = upstream.detach()
    if detached is None:
        _attach_viewer(tunnel, viewer)  # so that the viewer's side is closed with it
        tunnel.close("upstream closed")
        return await tunnel.done
    upstream_transport, after_switch = detached
    upstream_transport.set_protocol(tunnel.upstream)
    tunnel.upstream.connection_made(upstream_transport)
    tail = _attach_viewer(tunnel, viewer)
    if tail is None:
        tunnel.close("viewer closed")
        return await tunnel.done
    upstream_transport.resume_reading()
    if tail:
        tunnel.viewer.data_received(tail)
    if after_switch:
        tunnel.upstream.data_received(after_switch)
    return await tunnel.done


def _attach_viewer(tunnel: Tunnel, viewer: ViewerEnd) -> bytes | None:
    taken = viewer.take_over(tunnel.viewer)
    if taken is None:
        return None
    transport, tail = taken
    tunnel.viewer.connection_made(transport)
    return tail
