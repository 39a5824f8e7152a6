"""A raw HTTP upstream for proxy tests: answers each request with scripted bytes, counts connections.

Scripts model what real servers do wrong or unusually: chunked or close-delimited bodies, bytes
after the response, a connection dropped idle or mid-body, a server that never answers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from tests.support import LoopThread


@dataclass(frozen=True)
class Reply:
    """What the upstream does for one request: send `data` (in pieces 20 ms apart, cut at the
    `split` offsets, so each is a read of its own), then maybe close; or send `data` and hang."""

    data: bytes = b""
    close: bool = False
    hang: bool = False
    split: tuple[int, ...] = ()


def ok(body: bytes = b"hello", extra_headers: bytes = b"") -> Reply:
    return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra_headers, body))


@dataclass
class RawUpstream:
    """Scripted replies are used in order; without a script every request gets `ok()`."""

    replies: deque[Reply] = field(default_factory=deque)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    port: int = 0
    server: asyncio.AbstractServer | None = None

    def start(self, loop_thread: LoopThread) -> RawUpstream:
        async def serve() -> None:
            self.server = await asyncio.get_running_loop().create_server(
                lambda: _Protocol(self), "127.0.0.1", 0
            )
            self.port = self.server.sockets[0].getsockname()[1]

        loop_thread.run(serve())
        return self

    def stop(self, loop_thread: LoopThread) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()

        loop_thread.run(close())


class _Protocol(asyncio.Protocol):
    def __init__(self, upstream: RawUpstream) -> None:
        self.upstream = upstream
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.upstream.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self.upstream.requests.append(head)
            replies = self.upstream.replies
            reply = replies.popleft() if replies else ok()
            assert self.transport is not None
            if reply.hang:
                if reply.data:
                    self.transport.write(reply.data)  # and then nothing more
                continue
            if reply.split:
                self._dribble(reply)
                return
            if reply.data:
                self.transport.write(reply.data)
            if reply.close:
                self.transport.close()
                return

    def _dribble(self, reply: Reply) -> None:
        loop = asyncio.get_running_loop()
        assert self.transport is not None
        offsets = [0, *reply.split, len(reply.data)]
        for index in range(len(offsets) - 1):
            piece = reply.data[offsets[index] : offsets[index + 1]]
            loop.call_later(0.02 * index, self.transport.write, piece)
        if reply.close:
            loop.call_later(0.02 * len(offsets), self.transport.close)
