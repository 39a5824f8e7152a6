"""WebSocket handshakes at the edge (RFC 6455): signed to the origin as any request, then a tunnel.

The fast path has run on the handshake already (behaviour, methods, the WAF). Here it goes to the
origin like a pass-through request, with the origin's custom headers (the secret among them) and
the upgrade asked for again (`Upgrade` and `Connection` are hop-by-hop). A 101 goes back to the
viewer without the echoed secret or the fields the edge cuts from any response, and both
connections become one byte pipe (http/tunnel.py); any other answer is relayed as a normal,
uncached response. Nothing here touches the cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from originguard.edge.fetch import fetch_from_origin
from originguard.edge.passthrough import send_origin_error, viewer_headers
from originguard.edge.signing import viewer_cuts
from originguard.errors import UpstreamError
from originguard.http.message import Request
from originguard.http.tunnel import tunnel_response
from originguard.http.upgrade import UPGRADE_REQUEST_FIELDS
from originguard.http.writer import ResponseWriter

if TYPE_CHECKING:
    from originguard.edge.listener import EdgeContext, EdgeListener


async def serve_websocket(
    app: EdgeListener, request: Request, response: ResponseWriter, context: EdgeContext
) -> None:
    """Tunnel one WebSocket handshake to its behaviour's origin, or relay the refusal."""
    runtime = app.runtime
    behavior = context.behavior
    target = runtime.view.origins[behavior.config.origin]
    try:
        upstream, origin = await fetch_from_origin(
            runtime, target, request, method=b"GET", extra=UPGRADE_REQUEST_FIELDS, upgrade=True
        )
    except UpstreamError as exc:
        await send_origin_error(response, exc)
        app.log(request, response.status, response.bytes_sent, "Error", context.verdict)
        return
    if upstream.status == 101:
        cuts = viewer_cuts(origin.signing, runtime.view.targeted)
        app.log(request, 101, 0, "Pass", context.verdict)
        try:
            await tunnel_response(response, upstream, behavior.config.websocket_idle_timeout, cuts)
        except UpstreamError as exc:
            await send_origin_error(response, exc)
        return
    await response.start(
        upstream.status, viewer_headers(app, upstream.headers, origin.signing, b"Miss"), upstream.length
    )
    try:
        while chunk := await upstream.read():
            await response.write(chunk)
    except UpstreamError:
        response.close_after = True  # the origin broke off: the length is now wrong
        response.finished = True
        app.log(request, response.status, response.bytes_sent, "Error", context.verdict)
        return
    await response.end()
    app.log(request, response.status, response.bytes_sent, "Miss", context.verdict)
