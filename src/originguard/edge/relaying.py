# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The relay fast path for what the cache does not take (uncached behaviours, unsafe methods).

A body-less request to a single origin with a warm pooled connection is signed, written, and
its response streamed back from the upstream's read callbacks (http/relay.py), with the same
header hygiene as `pass_through`: hop-by-hop, echoed secret and targeted cache-control fields
removed, X-Cache / Via / X-Edge-Location added. Request bodies, failover groups and cold pools
take the coroutine path.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from originguard.cache.invalidation import invalidation_keys
from originguard.edge.compression import every_coding
from originguard.edge.origins import CompiledOrigin
from originguard.edge.passthrough import origin_error
from originguard.edge.signing import forwarded_lines, origin_request_headers, viewer_cuts
from originguard.errors import UpstreamError
from originguard.http.endpoints import ViewerEnd
from originguard.http.headers import edit_head, fields_to_cut
from originguard.http.interim import interim_head
from originguard.http.message import Request
from originguard.http.relay import Relay, RelayHandler, head_to_edit, line_end, render_request, start_relay
from originguard.http.response_head import CutSet, ResponseHead
from originguard.http.wire import render_response

if TYPE_CHECKING:
    from originguard.edge.listener import EdgeContext, EdgeListener

log = logging.getLogger("originguard.edge")

_SAFE: Final = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE"})


class EdgeRelay:
    """What one relayed request needs at its end: its origin and fast-path context."""

    __slots__ = ("context", "invalidate", "origin")

    def __init__(self, origin: CompiledOrigin, context: EdgeContext) -> None:
        self.origin = origin
        self.context = context
        self.invalidate: list[bytes] = []


def begin_relay(app: EdgeListener, request: Request, client: ViewerEnd, context: EdgeContext) -> bool:
    """Relay `request` if it can be (see the module docstring); False leaves it to the coroutine."""
    runtime = app.runtime
    view = runtime.view
    target = view.origins[context.behavior.config.origin]
    if request.body is not None or len(target.members) != 1:
        return False
    origin = target.members[0]
    upstream = runtime.pool.take_idle(origin.upstream(request.scheme).key, client.now)
    if upstream is None:
        return False
    head = _edited_origin_head(request, origin, client, view.node.name)
    if head is None:
        headers = origin_request_headers(
            request.headers,
            origin.signing,
            client_ip=request.client_ip,
            scheme=request.scheme,
            edge_name=view.node.name,
            host=None if origin.config.host_header == "forward" else origin.host_bytes,
        )
        head = render_request(
            request.method, request.path + (b"?" + request.query if request.query else b""), headers
        )
    app.relayed.value += 1.0
    start_relay(
        client,
        request,
        upstream,
        head,
        app.relay_handler,
        EdgeRelay(origin, context),
        origin.config.read_timeout,
    )
    return True


def _edited_origin_head(
    request: Request, origin: CompiledOrigin, client: ViewerEnd, edge_name: str
) -> bytes | None:
    """The origin's request head as the viewer's head edited in place: the fields
    `origin_request_headers` removes are cut, and what it adds is appended in the same order.
    None where the head must be rendered instead: no raw head at hand (split across reads),
    HTTP/1.0, a target not in origin-form, a replaced Host (it goes first), or a Connection
    header that lists X-Forwarded-For or Via (the rendered path drops their values)."""
    if origin.config.host_header != "forward":
        return None
    raw = head_to_edit(request)
    if raw is None:
        return None
    for listing in request.header_values(b"connection"):
        lowered = listing.lower()
        if lowered.find(b"forwarded") >= 0 or lowered.find(b"via") >= 0:
            return None
    chain = request.header_values(b"x-forwarded-for")
    earlier_via = request.header_values(b"via")
    if chain or earlier_via:
        added = forwarded_lines(chain, earlier_via, request.client_ip, request.scheme, edge_name)
    else:  # the same for every request of the connection: made once for it
        added = client.forwarded_lines
        if not added:
            added = client.forwarded_lines = forwarded_lines(
                chain, earlier_via, request.client_ip, request.scheme, edge_name
            )
    cut = fields_to_cut(request.headers, origin.request_cuts)
    return edit_head(raw, line_end(request), request.headers, cut, added + origin.signing.lines)


class EdgeRelayHandler(RelayHandler):
    """The edge's decisions for its relays; `relay.context` is an EdgeRelay."""

    def __init__(self, app: EdgeListener) -> None:
        self.app = app
        self._view: object = None
        self._drops: dict[str, CutSet] = {}

    def dropped(self, relay: Relay) -> CutSet:
        facts = relay.context
        assert isinstance(facts, EdgeRelay)
        return self._dropped(facts.origin)

    def added(self, relay: Relay) -> bytes:
        return self.app.runtime.view.miss_fields

    def on_response(self, relay: Relay, status: int, head: ResponseHead) -> None:
        request = relay.request
        if request.method not in _SAFE:
            # RFC 9111 §4.4: what a successful unsafe request changed is invalidated (at the end).
            facts = relay.context
            assert isinstance(facts, EdgeRelay)
            keys = invalidation_keys(
                request.method,
                status,
                request.host,
                request.target,
                request.headers,
                head.fields(),
                facts.context.key_policy,
            )
            facts.invalidate = every_coding(keys) if keys else keys

    def _dropped(self, origin: CompiledOrigin) -> CutSet:
        """What a viewer never gets of this origin's head: hop-by-hop fields, the origin's Via
        (ours replaces it), echoed secret headers, targeted cache-control fields."""
        view = self.app.runtime.view
        if view is not self._view:
            self._view, self._drops = view, {}  # a reload compiles new origins
        found = self._drops.get(origin.id)
        if found is None:
            found = self._drops[origin.id] = CutSet(viewer_cuts(origin.signing, view.targeted))
        return found

    def interim(self, relay: Relay, raw: bytes) -> bytes:
        # As the final head: the viewer's cuts, and our Via (RFC 9110 §7.6.3: in each message).
        via = b"Via: " + self.app.runtime.view.via + b"\r\n"
        return interim_head(raw, self.dropped(relay).names, via)

    def error_response(self, relay: Relay, error: UpstreamError) -> bytes:
        status, headers, text = origin_error(error)
        return render_response(status, headers, text, keep_alive=relay.request.keep_alive)

    def done(self, relay: Relay) -> None:
        facts = relay.context
        assert isinstance(facts, EdgeRelay)
        if relay.retried:
            return  # the coroutine path sends it again and logs it
        runtime = self.app.runtime
        error = relay.error
        if error is not None:
            if not relay.client_gone:
                runtime.origin_errors.inc((facts.origin.id, error.kind))
                if relay.started:
                    log.warning("origin %s broke off a response: %s", facts.origin.id, error)
        else:
            runtime.origin_latency.observe(runtime.pool.loop.time() - relay.request.started_at)
            for key in facts.invalidate:
                runtime.store.delete(key)
        result = "Miss" if error is None else "Error"
        self.app.log(relay.request, relay.status, relay.bytes_sent, result, facts.context.verdict)
