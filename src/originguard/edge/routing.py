# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Which path a viewer request takes through the edge (pure; compiled: it runs on every request).

    route(behavior, request, plain_http) →
      VIEWER_POLICY   answer now: redirect to HTTPS, or refuse plain HTTP (the behaviour's policy)
      METHOD_REFUSED  answer now: 403, the behaviour does not allow the method
      CACHE_HIT       a plain keep-alive GET without a body on a cached behaviour: the store's
                      fresh copy answers in the parser callback (`MemoryStore.fresh_wire(key,
                      now)`); without one, FILL
      FILL            the cache's coroutine (`edge.miss` driving `edge.fill`): conditional, ranged,
                      HEAD and connection-close requests, stale copies, misses
      RELAY           not cached, no body: relayed from callbacks on a warm pooled connection
                      (`edge.relaying`); without one, PASS
      PASS            not cached, through the coroutine (`edge.passthrough`): bodies, cold pools
      TUNNEL          a WebSocket handshake (set by `edge.app`, never by `route`): `edge.websocket`

`edge.app` answers the health path and a Via loop before choosing a behaviour, and runs the WAF
between the two answers and the rest: a block wins over every route after METHOD_REFUSED. The
route is an int (`Final` constants), kept on the request's `EdgeContext` for the later steps.
The clock is not an input: of all routes only a hit depends on time, and the store decides it.
"""

from __future__ import annotations

from typing import Final

from originguard.cache.facts import is_plain
from originguard.edge.behaviors import CompiledBehavior
from originguard.http.message import Request

VIEWER_POLICY: Final = 1
METHOD_REFUSED: Final = 2
CACHE_HIT: Final = 3
FILL: Final = 4
RELAY: Final = 5
PASS: Final = 6
TUNNEL: Final = 7

NAMES: Final = {
    VIEWER_POLICY: "viewer-policy",
    METHOD_REFUSED: "method-refused",
    CACHE_HIT: "cache-hit",
    FILL: "fill",
    RELAY: "relay",
    PASS: "pass",
    TUNNEL: "tunnel",
}


def route(behavior: CompiledBehavior, request: Request, plain_http: bool) -> int:
    """The path `request` takes under `behavior`; `plain_http` is a listener without TLS."""
    if plain_http and behavior.viewer_protocol_policy != "allow-all":
        return VIEWER_POLICY
    method = request.method
    if method not in behavior.methods:
        return METHOD_REFUSED
    bodiless = request.body is None
    if behavior.cacheable:
        # One comparison of the method on the hit path: testing GET-or-HEAD first and GET again
        # cost ~80 instructions per hit (callgrind, compiled), the whole routing step's price.
        if method == b"GET":
            if bodiless and request.keep_alive and is_plain(method, request.header_index()):
                return CACHE_HIT
            return FILL
        if method == b"HEAD":
            return FILL
    return RELAY if bodiless else PASS
