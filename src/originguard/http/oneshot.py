"""One request on its own connection: the HTTP client of health checks, RTT reports and admin calls.

The pooled client (`http.client`) is the proxies' hot path; what is here is for the calls that are
rare and must stay simple and bounded: the gate's and the DNS router's health checks, the edge's
RTT reports to the router, operators' admin requests. Each is a fresh TCP (or TLS) connection,
one request with `Connection: close`, and a response parsed by httptools (the parser the servers
run) within a head and a body limit and one overall deadline. Every failure is an
`UpstreamError` naming its kind (connect, timeout, tls, protocol, closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import httptools

from originguard.errors import UpstreamError

Header = tuple[bytes, bytes]

MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024


@dataclass(slots=True)
class OneShotResponse:
    """What came back: status, header fields as sent, and the body (empty when not read)."""

    status: int
    headers: list[Header] = field(default_factory=list)
    body: bytes = b""

    def header(self, lower_name: bytes) -> bytes | None:
        for name, value in self.headers:
            if name.lower() == lower_name:
                return value
        return None


class _Reader:
    """httptools callbacks collecting one response within the limits."""

    def __init__(self, max_head: int, max_body: int) -> None:
        self.max_head = max_head
        self.max_body = max_body
        self.head_bytes = 0
        self.headers: list[Header] = []
        self.chunks: list[bytes] = []
        self.body_bytes = 0
        self.head_done = False
        self.done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value) + 4
        if self.head_bytes > self.max_head:
            raise UpstreamError("protocol", f"response head over {self.max_head} bytes")
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.head_done = True

    def on_body(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        if self.body_bytes > self.max_body:
            raise UpstreamError("protocol", f"response body over {self.max_body} bytes")
        self.chunks.append(chunk)

    def on_message_complete(self) -> None:
        self.done = True


async def request(
    host: str,
    port: int,
    method: bytes,
    target: bytes,
    *,
    headers: Sequence[Header] = (),
    body: bytes = b"",
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
    host_header: bytes | None = None,
    timeout: float = 10.0,
    read_body: bool = True,
    max_head: int = MAX_HEAD,
    max_body: int = MAX_BODY,
) -> OneShotResponse:
    """Send one request and read its response (without the body when `read_body` is false)."""
    try:
        async with asyncio.timeout(timeout):
            return await _exchange(
                host, port, method, target, headers, body, tls, server_name, host_header,
                read_body, max_head, max_body,
            )  # fmt: skip
    except TimeoutError:
        raise UpstreamError("timeout", f"no complete answer from {host}:{port} within {timeout:g}s") from None


async def _exchange(
    host: str, port: int, method: bytes, target: bytes, headers: Sequence[Header], body: bytes,
    tls: ssl.SSLContext | None, server_name: str | None, host_header: bytes | None,
    read_body: bool, max_head: int, max_body: int,
) -> OneShotResponse:  # fmt: skip
    try:
        reader, writer = await asyncio.open_connection(
            host, port, ssl=tls, server_hostname=(server_name or host) if tls is not None else None
        )
    except ssl.SSLError as exc:
        raise UpstreamError("tls", f"{host}:{port}: {exc.reason or exc}", connecting=True) from None
    except OSError as exc:
        raise UpstreamError("connect", f"{host}:{port}: {exc.strerror or exc}", connecting=True) from None
    try:
        writer.write(_request_bytes(method, target, host_header or f"{host}:{port}".encode(), headers, body))
        await writer.drain()
        return await _read(reader, max_head, max_body, read_body)
    except ssl.SSLError as exc:
        raise UpstreamError("tls", f"{host}:{port}: {exc.reason or exc}") from None
    except OSError as exc:
        raise UpstreamError("closed", f"{host}:{port}: {exc.strerror or exc}") from None
    finally:
        writer.close()
        # The peer may reset after answering; the answer is already read.
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


def _request_bytes(
    method: bytes, target: bytes, host: bytes, headers: Sequence[Header], body: bytes
) -> bytes:
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: " + host]
    lines += [name + b": " + value for name, value in headers]
    if body or method in (b"POST", b"PUT", b"PATCH"):
        lines.append(b"Content-Length: %d" % len(body))
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _read(
    reader: asyncio.StreamReader, max_head: int, max_body: int, read_body: bool
) -> OneShotResponse:
    collected = _Reader(max_head, max_body)
    parser = httptools.HttpResponseParser(collected)
    while not collected.done and not (collected.head_done and not read_body):
        data = await reader.read(65536)
        if not data:
            framed = any(n.lower() in (b"content-length", b"transfer-encoding") for n, _ in collected.headers)
            if collected.head_done and not framed:
                break  # no Content-Length and no chunking: the body ends with the connection
            raise UpstreamError("closed", "the connection closed before the response was complete")
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            break
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, UpstreamError):
                raise cause from None
            raise UpstreamError("protocol", f"not an HTTP/1.x response: {exc}") from None
    status = parser.get_status_code()
    return OneShotResponse(status, collected.headers, b"".join(collected.chunks) if read_body else b"")
