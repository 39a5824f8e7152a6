"""http/tunnel.py's byte pipe between two real TCP connections on 127.0.0.1: back-pressure, the
idle deadline and one close for both sides."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from originguard.http.tunnel import Tunnel
from tests.support import LoopThread, wait_for


@dataclass
class Piped:
    tunnel: Tunnel
    viewer: socket.socket  # the test's end of the tunnel's viewer side
    upstream: socket.socket  # the test's end of its upstream side
    server: asyncio.Server


def pipe(loop_thread: LoopThread, idle_timeout: float) -> Piped:
    async def start() -> tuple[Tunnel, asyncio.Server]:
        tunnel = Tunnel(asyncio.get_running_loop(), idle_timeout)
        sides = [tunnel.viewer, tunnel.upstream]
        server = await asyncio.get_running_loop().create_server(lambda: sides.pop(0), "127.0.0.1", 0)
        return tunnel, server

    tunnel, server = loop_thread.run(start())
    port = server.sockets[0].getsockname()[1]
    viewer = socket.create_connection(("127.0.0.1", port), timeout=10)
    wait_for(lambda: tunnel.viewer.transport is not None)  # accepted in order: viewer first
    upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
    wait_for(lambda: tunnel.upstream.transport is not None)
    return Piped(tunnel, viewer, upstream, server)


@pytest.fixture
def piped(loop_thread: LoopThread, request: pytest.FixtureRequest) -> Iterator[Piped]:
    built = pipe(loop_thread, getattr(request, "param", 30.0))
    yield built
    built.viewer.close()
    built.upstream.close()
    built.server.close()


def receive(sock: socket.socket, size: int) -> bytes:
    parts, got = [], 0
    while got < size:
        chunk = sock.recv(min(1 << 20, size - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def test_bytes_go_both_ways(piped: Piped) -> None:
    piped.viewer.sendall(b"up")
    assert receive(piped.upstream, 2) == b"up"
    piped.upstream.sendall(b"down")
    assert receive(piped.viewer, 4) == b"down"


def test_a_reader_that_stops_pauses_the_sender_instead_of_buffering(piped: Piped) -> None:
    payload = os.urandom(48 * 1024 * 1024)  # more than the kernel buffers of both connections
    sender = threading.Thread(target=piped.viewer.sendall, args=(payload,), daemon=True)
    sender.start()
    viewer_transport = piped.tunnel.viewer.transport
    upstream_transport = piped.tunnel.upstream.transport
    assert viewer_transport is not None and upstream_transport is not None
    # Nobody reads the upstream side: its buffer fills, and the tunnel stops reading the viewer.
    wait_for(lambda: not viewer_transport.is_reading())
    assert upstream_transport.get_write_buffer_size() < 2 * 1024 * 1024  # not the 48 MiB
    assert receive(piped.upstream, len(payload)) == payload  # and resumes once it drains
    sender.join(10)
    assert not sender.is_alive()


@pytest.mark.parametrize("piped", [0.2], indirect=True)
def test_idle_tunnel_closes_both_sides(piped: Piped) -> None:
    piped.viewer.sendall(b"x")
    assert receive(piped.upstream, 1) == b"x"
    # Then silence: both test sockets see the close (recv returns b"") well within their timeout.
    assert piped.viewer.recv(1) == b""
    assert piped.upstream.recv(1) == b""
    assert piped.tunnel.done.done()
    assert piped.tunnel.done.result().reason == "idle timeout"


def test_one_side_closing_closes_the_other_after_its_bytes(piped: Piped) -> None:
    piped.upstream.sendall(b"last words")
    piped.upstream.close()
    assert receive(piped.viewer, 10) == b"last words"
    assert piped.viewer.recv(1) == b""
    result = piped.tunnel.done.result()
    assert result.reason == "upstream closed"
    assert result.bytes_down == 10
