# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The edge as an HTTP app: the parser-callback fast path and the dispatch to the slow paths.

A request is answered inside the parser callback when it can be: health, viewer-policy redirects,
methods a behaviour refuses, WAF blocks, and fresh cache hits (one dict lookup, one write). Only
misses, revalidations and request bodies start a coroutine.
"""

from __future__ import annotations

from typing import Final

from originguard.cache import cache_key
from originguard.edge import routing
from originguard.edge.behaviors import CompiledBehavior, select_behavior
from originguard.edge.compression import coding_key, request_coding
from originguard.edge.listener import EdgeContext, EdgeListener
from originguard.edge.miss import serve_slow_path
from originguard.edge.relaying import EdgeRelayHandler, begin_relay
from originguard.edge.routing import route
from originguard.edge.runtime import EdgeRuntime
from originguard.edge.viewer import viewer_decision
from originguard.edge.websocket import serve_websocket
from originguard.http.endpoints import ViewerEnd
from originguard.http.message import Request
from originguard.http.upgrade import is_websocket_handshake as _is_websocket
from originguard.http.writer import ResponseWriter
from originguard.proxy.prebuilt import prebuild

HEALTH: Final = prebuild(200, [(b"Content-Type", b"text/plain"), (b"Cache-Control", b"no-store")], b"ok\n")
METHOD_REFUSED: Final = prebuild(
    403, [(b"Content-Type", b"text/plain")], b"This distribution does not allow this method\n"
)
LOOP: Final = prebuild(
    508, [(b"Content-Type", b"text/plain")], b"Loop detected: this edge is already in Via\n"
)
WEBSOCKET_REFUSED: Final = prebuild(
    403, [(b"Content-Type", b"text/plain")], b"This distribution does not accept WebSocket connections\n"
)
HTTPS_ONLY: Final = prebuild(
    403, [(b"Content-Type", b"text/plain")], b"This distribution only accepts HTTPS\n"
)


class EdgeApp(EdgeListener):
    """Serves one viewer listener (http or https) of an edge."""

    def __init__(self, runtime: EdgeRuntime, scheme: str, https_port: int | None) -> None:
        super().__init__(runtime, scheme, https_port)
        self.relay_handler = EdgeRelayHandler(self)

    def respond_now(self, request: Request) -> bytes | None:
        runtime = self.runtime
        view = runtime.view
        path = request.path
        if path == view.health_path:
            return self._answer(
                request, HEALTH.wire(keep_alive=request.keep_alive, head_only=False), "Health", 200
            )
        for value in request.header_values(b"via"):
            if value.find(view.via) >= 0:
                # A shield chain that points back at us would otherwise loop until sockets run out.
                return self._answer(request, LOOP.wire(keep_alive=False, head_only=False), "Error", 508)
        behavior = select_behavior(view.behaviors, path)
        taken = route(behavior, request, self.plain_http)
        if taken == routing.VIEWER_POLICY:
            return self._viewer_policy(request, behavior)
        if taken == routing.METHOD_REFUSED:
            wire = METHOD_REFUSED.wire(keep_alive=request.keep_alive, head_only=request.method == b"HEAD")
            return self._answer(request, wire, "Error", 403)
        verdict = None
        if view.waf is not None:
            verdict = self.inspect(request, b"", False)
            if verdict.blocked:
                return self.blocked_wire(request, verdict)
        policy = behavior.key_policy
        if b"upgrade" in request.header_index() and _is_websocket(request):
            if not behavior.config.websocket:
                return self._answer(
                    request, WEBSOCKET_REFUSED.wire(keep_alive=False, head_only=False), "Error", 403
                )
            # Never the cache (a cached /ws would answer a handshake with a page), never a
            # callback relay: `handle` tunnels it (edge/websocket.py).
            request.context = EdgeContext(behavior, policy, verdict, routing.TUNNEL)
            return None
        if taken == routing.CACHE_HIT:
            key = cache_key(request.host, path, request.query, request.headers, policy)
            compression = behavior.compression
            if compression is not None:
                # A cache-hit route is a plain GET, so no range: the coding follows Accept-Encoding alone.
                accepted = request.header(b"accept-encoding")
                key = coding_key(key, request_coding(accepted, False, compression))
            hit = runtime.store.fresh_wire(key, runtime.clock())
            if hit is not None:
                # The hottest path: counters are prebuilt cells, and no log line is built unless
                # the access log is on.
                self._hits.value += 1.0
                self._bytes.value += len(hit)
                if runtime.access_log.enabled:
                    self._log_line(request, 200, len(hit), "Hit", verdict)
                return hit
        request.context = EdgeContext(behavior, policy, verdict, taken)
        return None

    def begin(self, request: Request, client: ViewerEnd) -> bool:
        context = request.context
        if not isinstance(context, EdgeContext):
            return False
        if context.route != routing.RELAY:
            return False  # the cache's path: lookups, fills, collapsing
        return begin_relay(self, request, client, context)

    async def handle(self, request: Request, response: ResponseWriter) -> None:
        context = request.context
        if not isinstance(context, EdgeContext):
            # Requests with a body (and connection-close ones) come here without a fast-path pass.
            answer: bytes | None = (
                self.respond_now(request) if request.body is None else self._route_with_body(request)
            )
            if answer is not None:
                response.send_prebuilt(_status_of(answer), answer)
                response.close_after = not request.keep_alive
                return
            context = request.context
            assert isinstance(context, EdgeContext)
        if context.route == routing.TUNNEL:  # respond_now judged the handshake
            await serve_websocket(self, request, response, context)
            return
        await serve_slow_path(self, request, response, context)

    def on_rejected(self, client_ip: str, status: int, reason: str) -> None:
        self.runtime.requests.inc(("Error", str(status)))
        self.runtime.access_log.write(
            {
                "edge": self.runtime.view.node.name,
                "client": client_ip,
                "status": status,
                "result": "Error",
                "reason": reason,
            }
        )

    # -- helpers -------------------------------------------------------------------------------

    def _route_with_body(self, request: Request) -> bytes | None:
        """Routing for a request with a body: the WAF runs later, when the body is read."""
        behavior = select_behavior(self.runtime.view.behaviors, request.path)
        taken = route(behavior, request, self.plain_http)
        if taken == routing.VIEWER_POLICY:
            return self._viewer_policy(request, behavior)
        if taken == routing.METHOD_REFUSED:
            return self._answer(request, METHOD_REFUSED.wire(keep_alive=False, head_only=False), "Error", 403)
        request.context = EdgeContext(behavior, behavior.key_policy, None, taken)
        return None

    def _viewer_policy(self, request: Request, behavior: CompiledBehavior) -> bytes:
        decision = viewer_decision(
            behavior.viewer_protocol_policy,
            scheme=self.scheme,
            host=request.host,
            https_port=self.https_port,
            target=request.target if request.target.startswith(b"/") else request.path,
        )
        head_only = request.method == b"HEAD"
        if decision.kind == "redirect":
            built = prebuild(301, [(b"Location", decision.location), (b"Content-Type", b"text/plain")], b"")
            return self._answer(
                request, built.wire(keep_alive=request.keep_alive, head_only=head_only), "Redirect", 301
            )
        wire = HTTPS_ONLY.wire(keep_alive=request.keep_alive, head_only=head_only)
        return self._answer(request, wire, "Error", 403)


def _status_of(wire: bytes) -> int:
    return int(wire[9:12])
