"""Building the request a target receives and relaying its response (shared by gate paths)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from originguard.http.headers import content_length, strip_hop_by_hop, without
from originguard.http.message import Body, Request

Header = tuple[bytes, bytes]

# Set by the gate itself; a viewer's copies would let it lie about its address or scheme.
REPLACED = frozenset({b"x-forwarded-proto", b"x-forwarded-port", b"content-length"})


def target_request_headers(request: Request, remove: frozenset[bytes]) -> list[Header]:
    """Request headers for a target: hop-by-hop and `remove` (secret) fields gone, X-Forwarded-* set."""
    headers = without(strip_hop_by_hop(request.headers), remove | REPLACED)
    forwarded_for = request.header(b"x-forwarded-for")
    headers = [(n, v) for n, v in headers if n.lower() != b"x-forwarded-for"]
    client = request.client_ip.encode()
    headers.append((b"X-Forwarded-For", forwarded_for + b", " + client if forwarded_for else client))
    headers.append((b"X-Forwarded-Proto", request.scheme.encode()))
    headers.append((b"X-Forwarded-Port", b"%d" % request.server_port))
    return headers


def origin_form(request: Request) -> bytes:
    """The request target in origin-form (absolute-form requests were checked against Host)."""
    return request.path + (b"?" + request.query if request.query else b"")


async def stream_body(body: Body) -> AsyncIterator[bytes]:
    """A request body as an async iterator of chunks."""
    while chunk := await body.read():
        yield chunk


def declared_length(request: Request) -> int | None:
    """The Content-Length the client declared, if any (chunked bodies have none)."""
    return content_length(request.headers)
