"""Test support: servers on a background event loop, raw sockets, response parsing."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


class LoopThread:
    """A uvloop event loop in a thread: servers run there, tests talk to them over sockets."""

    def __init__(self) -> None:
        self.loop = uvloop.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def cancel_leftovers() -> None:
            # Servers a failed test never shut down: cancel their tasks so the loop closes quietly.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_leftovers(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# The edge name of the test configs and a browser's usual request headers, for the WAF tests.
EDGE = "www.cdn.example.test"
BROWSER = (
    f"Host: {EDGE}\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
)


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def client_tls(ca: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    return context


def connect(
    port: int,
    *,
    tls: ssl.SSLContext | None = None,
    server_name: str = "gate.originguard.test",
    timeout: float = 5.0,
) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls is not None:
        return tls.wrap_socket(sock, server_hostname=server_name)
    return sock


def read_response(sock: socket.socket, *, head_only: bool = False) -> Response:
    """Read exactly one response (Content-Length, chunked, or until close)."""
    data = _PUSHED.pop(id(sock), b"")
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full head: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    _, status, *reason = lines[0].split(" ", 2)
    headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
    response = Response(int(status), reason[0] if reason else "", headers, b"", b"")  # type: ignore[arg-type]
    if head_only or response.status in (204, 304) or 100 <= response.status < 200:
        response.raw = head + b"\r\n\r\n"
        sock_buffer_push(sock, rest)
        return response
    length = response.header("content-length")
    if length is not None:
        while len(rest) < int(length):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        response.body, extra = rest[: int(length)], rest[int(length) :]
        sock_buffer_push(sock, extra)
    elif (response.header("transfer-encoding") or "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += sock.recv(65536)
            body += rest[:size]
            rest = rest[size + 2 :]
            if size == 0:
                break
        response.body = body
        sock_buffer_push(sock, rest)
    else:
        while chunk := sock.recv(65536):
            rest += chunk
        response.body = rest
    response.raw = head + b"\r\n\r\n" + response.body
    return response


_PUSHED: dict[int, bytes] = {}


def sock_buffer_push(sock: socket.socket, data: bytes) -> None:
    """Pipelined responses may arrive together; keep the surplus for the next read."""
    if data:
        _PUSHED[id(sock)] = _PUSHED.get(id(sock), b"") + data


def read_all(sock: socket.socket) -> bytes:
    """Everything until the peer closes (bounded by the socket timeout)."""
    data = _PUSHED.pop(id(sock), b"")
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def exchange(
    port: int,
    raw: bytes,
    *,
    tls: ssl.SSLContext | None = None,
    timeout: float = 5.0,
    server_name: str = "gate.originguard.test",
) -> bytes:
    """Send raw bytes, return every byte the server sends until it closes."""
    with connect(port, tls=tls, timeout=timeout, server_name=server_name) as sock:
        sock.sendall(raw)
        return read_all(sock)


def request(
    port: int, raw: bytes, *, tls: ssl.SSLContext | None = None, server_name: str = "gate.originguard.test"
) -> Response:
    """Send raw bytes on a fresh connection and read one response."""
    with connect(port, tls=tls, server_name=server_name) as sock:
        sock.sendall(raw)
        return read_response(sock)


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Poll until `predicate()` is true (never a fixed sleep for readiness)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


class ManualClock:
    """Wall-clock seconds that move only when the test moves them: a component's `clock=`.

    It starts at the real time, so what a real origin stamps (`Date`) agrees with it until the
    test advances it; a response fetched after `advance(n)` then looks n seconds old on arrival
    (RFC 9111 §4.2.3 apparent age), so script a lifetime longer than the jump for it.
    """

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set(self, now: float) -> None:
        self.now = now


def port_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def throwaway_package(root: Path, files: dict[str, str]) -> Path:
    """A package `pkg` under root with the given modules (path → source, dedented), for the
    import-graph checks (test_layers, test_purity)."""
    for name, source in {"__init__.py": "", **files}.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(source))
    return root / "pkg"
