# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Relay a body-less request over a pooled upstream connection, in callbacks.

The proxy fast path of the gate (and of the edge's uncached behaviours): the request head is
written to an idle keep-alive connection, and the response is streamed back to the client from
the upstream connection's read callbacks, one client write per upstream read. No task, future or
timer is made per request; the client connection's clock enforces the read timeout (as between two
reads: nginx's proxy_read_timeout). Anything this does not cover (request bodies, no idle
connection, a retry after a connection that died idle) runs the app's coroutine path instead.

    start_relay ─▶ on_interim* ─▶ upstream.on_head ─▶ on_body* ─▶ on_complete ─▶ after_read: flush, finish
                        └──── on_error (closed, invalid, timeout) ─▶ 502/504, retry, or cut off
"""

from __future__ import annotations

import asyncio
from typing import Final

from originguard.errors import UpstreamError
from originguard.http.endpoints import RelayEnd, ViewerEnd
from originguard.http.interim import interim_head
from originguard.http.message import Request
from originguard.http.response_head import HOP_BY_HOP_CUTS, CutSet, ResponseHead, forwarded_head
from originguard.http.wire import DATE, status_line

Header = tuple[bytes, bytes]

CLIENT_CLOSED: Final = 499  # the status logged for a request its client abandoned (nginx's convention)

# "#" as a byte value: `int in bytes` is one memchr, while `bytes in bytes` first tries the needle
# as an int and raises and clears a TypeError inside CPython (about 2,000 instructions).
_HASH: Final = 35

# Pending output above which a relay writes before the upstream read ends (bounded memory).
FLUSH_AT: Final = 64 * 1024


class RelayHandler:
    """What an app decides about its relays: the response head, error answers, the log line.

    Subclassed by compiled modules only (gate, edge): its methods are then called through the
    vtable, where allowing interpreted subclasses costs a Python-level call each (four a relay)."""

    def dropped(self, relay: Relay) -> CutSet:
        """Response fields the client never gets (the hop-by-hop ones at least)."""
        return HOP_BY_HOP_CUTS

    def added(self, relay: Relay) -> bytes:
        """Lines added to every response head (each ending in CRLF)."""
        return b""

    def on_response(self, relay: Relay, status: int, head: ResponseHead) -> None:
        """The upstream's response head arrived (before the client sees it)."""
        return None

    def interim(self, relay: Relay, raw: bytes) -> bytes:
        """The interim head `raw` as the client gets it (http/interim.py): the fields `dropped` cuts
        are cut from it too."""
        return interim_head(raw, self.dropped(relay).names)

    def error_response(self, relay: Relay, error: UpstreamError) -> bytes:
        """A whole response for an upstream that failed before its head (502 or 504)."""
        raise NotImplementedError

    def done(self, relay: Relay) -> None:
        """The relay ended (`relay.error` says whether it failed): log and count it."""
        return None


class RelayUpstream(asyncio.Protocol):
    """An upstream connection as its relay sees it; http.client.UpstreamConnection is the one
    subclass. A native base here, so this module does not import the client (which imports it)."""

    relay: Relay | None  # the relay its response goes to, while one does
    _got_bytes: bool

    @property
    def got_response_bytes(self) -> bool:
        """Any byte of a response came: a request that failed after that may not be sent again."""
        return self._got_bytes

    def start_relay(self, relay: Relay, head: bytes, head_request: bool) -> None:
        """Hand the next response to `relay` and send a body-less request."""
        raise NotImplementedError

    def release(self, now: float = -1.0) -> None:
        """The response ended: back to the pool if the upstream keeps it alive (once per response)."""
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def pause_reading(self) -> None:
        raise NotImplementedError

    def resume_reading(self) -> None:
        raise NotImplementedError


class Relay(RelayEnd):
    """One request in flight from a client connection through an upstream connection."""

    def __init__(
        self,
        client: ViewerEnd,
        request: Request,
        upstream: RelayUpstream,
        handler: RelayHandler,
        context: object,
        read_timeout: float,
    ) -> None:
        self.client = client
        self.request = request
        self.upstream = upstream
        self.handler = handler
        self.context = context  # the app's own facts about this request (target, rule...)
        self.read_timeout = read_timeout
        self.status = 0
        self.bytes_sent = 0
        self.started = False  # the response head is on its way to the client
        self.chunked = False
        self.close_after = False
        self.complete = False
        self.finished = False
        self.retried = False  # handed back to the app's coroutine path
        self.client_gone = False  # the client closed before the response ended
        self.error: UpstreamError | None = None
        self.pending: list[bytes] = []

    # -- from the upstream connection's parser -------------------------------------------------

    def on_interim(self, status: int, raw: bytes) -> None:
        """An interim head to pass on (http/interim.py), written with the read it came in."""
        if self.request.version == b"1.1" and not self.started:  # RFC 9110 §15.2: none to HTTP/1.0
            self._add(self.handler.interim(self, raw))

    def on_head(self, status: int, head: ResponseHead) -> None:
        self.status = status
        request = self.request
        handler = self.handler
        handler.on_response(self, status, head)
        # The head goes on as it came, minus the cut lines (http.response_head). The upstream's
        # Content-Length stays when it frames what we forward; chunked and close-delimited bodies
        # are framed anew for this client (RFC 9112 §6, §7).
        added = [handler.added(self)]
        if not head.has_date:
            added.append(DATE.line)  # RFC 9110 §6.6.1: the upstream's Date counts, if it sent one
        if request.method == b"HEAD" or status == 204 or status == 304 or head.length is not None:
            pass  # no body, or Content-Length frames it (llhttp refuses it beside Transfer-Encoding)
        elif request.version == b"1.1":
            self.chunked = True
            added.append(b"Transfer-Encoding: chunked\r\n")
        else:
            self.close_after = True  # HTTP/1.0 has no chunked coding: the close ends the body
        keep_alive = request.keep_alive and not self.close_after and not self.client.draining
        self.close_after = not keep_alive
        if not keep_alive:
            added.append(b"Connection: close\r\n")
        # An HTTP/1.0 upstream's status line is replaced by ours: the client gets our version.
        first = b"" if head.raw.startswith(b"HTTP/1.1 ") else status_line(status)[:-2]
        self.started = True
        self._add(forwarded_head(head, b"".join(added), first))

    def on_body(self, chunk: bytes) -> None:
        if self.chunked:
            self._add(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        else:
            self._add(chunk)

    def on_complete(self) -> None:
        if self.chunked:
            self._add(b"0\r\n\r\n")
        self.complete = True

    def after_read(self) -> None:
        """An upstream read was parsed: one write to the client, and the end if it came."""
        if self.pending:
            self._flush()
        if self.complete:
            self._finish(reuse=True)
        else:
            client = self.client
            client.deadline = client.loop.time() + self.read_timeout

    def on_error(self, error: UpstreamError) -> None:
        """The upstream failed (closed, invalid response, timeout)."""
        if self.finished:
            return
        if self.complete:
            self._finish(reuse=False)
            return
        self.error = error
        upstream = self.upstream
        upstream.relay = None
        upstream.abort()
        if not self.started:
            if error.kind == "closed" and not upstream.got_response_bytes:
                # RFC 9112 §9.3.1: the pooled connection died idle and the target never saw the
                # request; the coroutine path replays it on a fresh connection.
                self.finished = self.retried = True
                self.client.relay = None
                self.handler.done(self)
                self.client.run_handler(self.request)
                return
            wire = self.handler.error_response(self, error)
            self.status = int(wire[9:12])
            self.close_after = not self.request.keep_alive
            self.pending.append(wire)  # after any interim heads of this read
            self._flush()
        else:
            self.close_after = True  # a half-sent response can only be cut off
        self._end()

    # -- from the client connection ------------------------------------------------------------

    def on_timeout(self) -> None:
        self.on_error(UpstreamError("timeout", f"no response within {self.read_timeout:g}s"))

    def on_client_lost(self) -> None:
        if not self.finished:
            self.finished = True
            # Not the upstream's failure: logged as nginx's 499 (client closed request), not counted
            # against the target or origin.
            self.client_gone = True
            self.status = CLIENT_CLOSED
            self.error = UpstreamError("closed", "the client closed the connection")
            self.upstream.relay = None
            self.upstream.abort()
            self.handler.done(self)

    def pause(self) -> None:
        self.upstream.pause_reading()

    def resume(self) -> None:
        self.upstream.resume_reading()

    # -- internals ---------------------------------------------------------------------------

    def _add(self, data: bytes) -> None:
        self.pending.append(data)
        self.bytes_sent += len(data)
        if self.bytes_sent > FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        pending = self.pending
        self.client.write(pending[0] if len(pending) == 1 else b"".join(pending))
        self.pending = []

    def _finish(self, *, reuse: bool) -> None:
        upstream = self.upstream
        upstream.relay = None
        if reuse:
            # The client's read time: idle timeouts are tens of seconds, and it saves a clock read.
            upstream.release(self.client.now)
        else:
            upstream.abort()
        self._end()

    def _end(self) -> None:
        self.finished = True
        client = self.client
        client.relay = None
        self.handler.done(self)
        client.relay_done(self.request, close=self.close_after)


def start_relay(
    client: ViewerEnd,
    request: Request,
    upstream: RelayUpstream,
    head: bytes,
    handler: RelayHandler,
    context: object,
    read_timeout: float,
) -> Relay:
    """Write `head` (a whole body-less request) to an idle upstream and relay its response."""
    relay = Relay(client, request, upstream, handler, context, read_timeout)
    client.relay = relay
    client.deadline = client.now + read_timeout
    upstream.start_relay(relay, head, request.method == b"HEAD")
    return relay


def head_to_edit(request: Request) -> bytes | None:
    """The viewer's raw head, when a proxy may forward it edited in place (http.headers.edit_head):
    at hand whole, HTTP/1.1 (the line goes on as it came) and an origin-form target without a
    fragment. None: render the head from the parsed fields instead."""
    raw = request.raw_head()
    target = request.target
    if raw is None or request.version != b"1.1" or not target.startswith(b"/") or _HASH in target:
        return None
    return raw


def line_end(request: Request) -> int:
    """Where the request line's CRLF starts in a head `head_to_edit` gave, if it is spelled
    `METHOD SP target SP HTTP/1.1` as nearly all are (`edit_head` checks each line it cuts where
    it expects it, and searches instead when one is elsewhere)."""
    return len(request.method) + len(request.target) + 10


def render_request(method: bytes, target: bytes, headers: list[Header]) -> bytes:
    """A request head: one join, no per-field formatting."""
    parts = [method, b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts.append(name)
        parts.append(b": ")
        parts.append(value)
        parts.append(b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)
