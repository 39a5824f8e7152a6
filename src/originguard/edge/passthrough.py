"""Requests the cache does not take (uncached behaviours, unsafe methods): stream both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from originguard.cache import strip_for_viewer
from originguard.cache.invalidation import invalidation_keys
from originguard.cache.key import KeyPolicy
from originguard.edge.compression import every_coding
from originguard.edge.fetch import fetch_from_origin
from originguard.edge.origins import OriginTarget
from originguard.edge.signing import OriginSigning, viewer_response_headers
from originguard.errors import UpstreamError
from originguard.http.message import Request
from originguard.http.writer import ResponseWriter

if TYPE_CHECKING:
    from originguard.edge.listener import EdgeListener

Header = tuple[bytes, bytes]
ORIGIN_DOWN = b"502 Bad Gateway: the origin could not be reached\n"
ORIGIN_SLOW = b"504 Gateway Timeout: the origin took too long\n"


async def pass_through(
    app: EdgeListener,
    request: Request,
    response: ResponseWriter,
    target: OriginTarget,
    body: bytes | AsyncIterator[bytes] | None,
    request_length: int | None,
    policy: KeyPolicy,
) -> str:
    """Forward one request and relay the answer; returns the access-log result."""
    runtime = app.runtime
    started = runtime.pool.loop.time()
    try:
        upstream, origin = await fetch_from_origin(
            runtime,
            target,
            request,
            method=request.method,
            body=body,
            content_length=request_length,
            interim=response,
        )
    except UpstreamError as exc:
        await send_origin_error(response, exc)
        return "Error"
    runtime.origin_latency.observe(runtime.pool.loop.time() - started)
    headers = viewer_headers(app, upstream.headers, origin.signing, b"Miss")
    await response.start(upstream.status, headers, upstream.length)
    try:
        while chunk := await upstream.read():
            await response.write(chunk)
    except UpstreamError:
        response.close_after = True  # the origin broke off: so must we, the length is now wrong
        response.finished = True
        return "Error"
    await response.end()
    keys = invalidation_keys(
        request.method,
        upstream.status,
        request.host,
        request.target,
        request.headers,
        upstream.headers,
        policy,
    )
    keys = every_coding(keys) if keys else keys
    for key in keys:  # RFC 9111 §4.4: a successful unsafe request invalidates what it changed
        runtime.store.delete(key)
    return "Miss"


def viewer_headers(
    app: EdgeListener, origin_headers: list[Header], signing: OriginSigning, result: bytes
) -> list[Header]:
    """Origin headers fit for the viewer plus X-Cache, Via and X-Edge-Location."""
    view = app.runtime.view
    kept = strip_for_viewer(viewer_response_headers(origin_headers, signing), view.targeted)
    kept = [(n, v) for n, v in kept if n.lower() not in (b"content-length", b"via")]
    kept.append((b"X-Cache", result + b" from originguard"))
    kept.append((b"Via", view.via))
    kept.append((b"X-Edge-Location", view.node.name.encode()))
    return kept


def origin_error(error: UpstreamError) -> tuple[int, list[Header], bytes]:
    """Status, headers and body a viewer gets for an origin that failed before its head."""
    status, text = (504, ORIGIN_SLOW) if error.kind == "timeout" else (502, ORIGIN_DOWN)
    return status, [(b"Content-Type", b"text/plain"), (b"X-Cache", b"Error from originguard")], text


async def send_origin_error(response: ResponseWriter, error: UpstreamError) -> None:
    await response.send(*origin_error(error))
