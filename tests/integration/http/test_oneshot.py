"""The one-shot client against real sockets: framings, limits, deadlines, TLS and every error kind."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable

import pytest

from originguard.certs import CertFiles
from originguard.errors import UpstreamError
from originguard.http import oneshot

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def replying(data: bytes, *, then_close: bool = True) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(data)
        await writer.drain()
        if then_close:
            writer.close()
        else:
            await asyncio.sleep(30)  # a server that sends and then stalls

    return handle


async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


def exchange(data: bytes, **options: object) -> oneshot.OneShotResponse:
    async def run() -> oneshot.OneShotResponse:
        server, port = await serve(replying(data, then_close=bool(options.pop("then_close", True))))
        try:
            options.setdefault("timeout", 2.0)
            return await oneshot.request("127.0.0.1", port, b"GET", b"/x", **options)  # type: ignore[arg-type]
        finally:
            server.close()

    return asyncio.run(run())


def failure(data: bytes, **options: object) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        exchange(data, **options)
    return caught.value


def test_content_length_chunked_and_close_delimited_bodies() -> None:
    sized = exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello")
    assert (sized.status, sized.body, sized.header(b"x-a")) == (200, b"hello", b"1")
    chunked = exchange(
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    assert (chunked.status, chunked.body) == (201, b"abcde")
    delimited = exchange(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
    assert delimited.body == b"until the end"


def test_the_request_names_the_host_asks_to_close_and_frames_a_body() -> None:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head + await reader.readexactly(2))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        writer.close()

    async def run() -> int:
        server, port = await serve(handle)
        try:
            answer = await oneshot.request(
                "127.0.0.1", port, b"POST", b"/rtt", headers=[(b"X-B", b"2")], body=b"{}", host_header=b"r"
            )
            return answer.status
        finally:
            server.close()

    assert asyncio.run(run()) == 204
    assert seen == [
        b"POST /rtt HTTP/1.1\r\nHost: r\r\nX-B: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    ]


def test_without_reading_the_body_the_head_is_enough() -> None:
    answer = exchange(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial", read_body=False, then_close=False
    )
    assert answer.status == 200 and answer.body == b""


def test_truncated_oversized_and_foreign_answers_are_refused() -> None:
    assert failure(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").kind == "closed"
    assert failure(b"").kind == "closed"
    assert failure(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 20000 + b"\r\n\r\n").kind == "protocol"
    big = failure(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"a" * 2000, max_body=1000)
    assert big.kind == "protocol" and "over 1000 bytes" in big.detail
    assert failure(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").kind == "protocol"


def test_a_stalled_server_is_a_timeout_and_a_closed_port_a_connect_error() -> None:
    stalled = failure(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", then_close=False, timeout=0.3)
    assert stalled.kind == "timeout"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: the connect is refused
        with pytest.raises(UpstreamError) as refused:
            asyncio.run(oneshot.request("127.0.0.1", port, b"GET", b"/", timeout=2.0))
    assert refused.value.kind == "connect" and refused.value.connecting


def test_tls_with_the_name_verified(pki: dict[str, CertFiles]) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(pki["gate"].certificate, pki["gate"].key)
    client = ssl.create_default_context(cafile=str(pki["gate"].certificate.parent / "ca.crt"))

    async def run(server_name: str) -> oneshot.OneShotResponse:
        server, port = await serve(replying(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), server_tls)
        try:
            return await oneshot.request(
                "127.0.0.1", port, b"GET", b"/", tls=client, server_name=server_name, timeout=5.0
            )
        finally:
            server.close()

    assert asyncio.run(run("gate.originguard.test")).body == b"ok"
    with pytest.raises(UpstreamError) as wrong:
        asyncio.run(run("not-the-gate.example"))
    assert wrong.value.kind == "tls" and wrong.value.connecting
