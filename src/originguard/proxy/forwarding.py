# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Building the request a target receives and relaying its response (shared by gate paths)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from originguard.http.body import Body
from originguard.http.endpoints import ViewerEnd
from originguard.http.headers import content_length, strip_hop_by_hop
from originguard.http.message import Request

Header = tuple[bytes, bytes]

# Set by the gate itself; a viewer's copies would let it lie about its address or scheme.
REPLACED: Final = frozenset({b"x-forwarded-proto", b"x-forwarded-port", b"content-length"})


def target_request_headers(request: Request, drop: frozenset[bytes]) -> list[Header]:
    """Request headers for a target: hop-by-hop and `drop` fields gone, X-Forwarded-* set.

    `drop` comes from `dropped_for_target` (built once per listener, not per request)."""
    headers = strip_hop_by_hop(request.headers, drop=drop)
    forwarded_for, proto, port = forwarded_values(request)
    headers.append((b"X-Forwarded-For", forwarded_for))
    headers.append((b"X-Forwarded-Proto", proto))
    headers.append((b"X-Forwarded-Port", port))
    return headers


def forwarded_fields(request: Request, client: ViewerEnd) -> bytes:
    """The same X-Forwarded-* fields as lines, for a head edited in place. Without a viewer's
    X-Forwarded-For they are the same for every request of a connection: made once for it."""
    same_for_connection = request.header(b"x-forwarded-for") is None
    if same_for_connection and client.forwarded_lines:
        return client.forwarded_lines
    forwarded_for, proto, port = forwarded_values(request)
    lines = b"".join(
        (
            b"X-Forwarded-For: ",
            forwarded_for,
            b"\r\nX-Forwarded-Proto: ",
            proto,
            b"\r\nX-Forwarded-Port: ",
            port,
            b"\r\n",
        )
    )
    if same_for_connection:
        client.forwarded_lines = lines
    return lines


def forwarded_values(request: Request) -> tuple[bytes, bytes, bytes]:
    """X-Forwarded-For (the viewer's, with the client appended), -Proto and -Port for a target."""
    forwarded_for = request.header(b"x-forwarded-for")
    client = request.client_ip.encode()
    return (
        forwarded_for + b", " + client if forwarded_for else client,
        request.scheme.encode(),
        b"%d" % request.server_port,
    )


def dropped_for_target(secret_headers: frozenset[bytes]) -> frozenset[bytes]:
    """Fields never passed to a target as sent: the matched secrets and what the gate sets itself."""
    return secret_headers | REPLACED | {b"x-forwarded-for"}


def origin_form(request: Request) -> bytes:
    """The request target in origin-form (absolute-form requests were checked against Host)."""
    return request.path + (b"?" + request.query if request.query else b"")


class BodyChunks:
    """A request body as an async iterator of chunks (a class: mypyc compiles no async generators)."""

    def __init__(self, body: Body) -> None:
        self.body = body

    def __aiter__(self) -> BodyChunks:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.body.read()
        if not chunk:
            raise StopAsyncIteration
        return chunk


def stream_body(body: Body) -> AsyncIterator[bytes]:
    """A request body as an async iterator of chunks."""
    return BodyChunks(body)


def declared_length(request: Request) -> int | None:
    """The Content-Length the client declared, if any (chunked bodies have none)."""
    return content_length(request.headers)
