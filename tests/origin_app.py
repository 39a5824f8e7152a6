"""A scriptable origin app for tests: a real HTTP server whose answers each test sets per path."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from originguard.http.app import HttpApp
from originguard.http.message import Request
from originguard.http.writer import ResponseWriter


@dataclass
class Script:
    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(default_factory=lambda: [(b"Cache-Control", b"max-age=60")])
    body: bytes = b"hello from the origin\n"
    delay: float = 0.0
    etag: bytes | None = None
    echo_request_headers: bool = False
    interim: list[bytes] = field(default_factory=list)  # whole 1xx heads sent before the response


class ScriptedOrigin(HttpApp):
    """Answers each path by its Script; counts what it received; honours If-None-Match."""

    def __init__(self) -> None:
        self.scripts: dict[bytes, Script] = {}
        self.hits: Counter[bytes] = Counter()
        self.seen: list[tuple[bytes, list[tuple[bytes, bytes]]]] = []
        self.bodies: dict[bytes, bytes] = {}  # the last request body per path

    def respond_now(self, request: Request) -> bytes | None:
        return None

    def on_rejected(self, client_ip: str, status: int, reason: str) -> None:
        return None

    async def handle(self, request: Request, response: ResponseWriter) -> None:
        if request.body is not None:
            self.bodies[request.path] = await request.body.read_all()
        if request.path == b"/healthz":
            await response.send(200, [], b"ok\n")
            return
        self.hits[request.path] += 1
        self.seen.append((request.path, list(request.headers)))
        script = self.scripts.get(request.path, Script())
        for head in script.interim:
            response.send_interim(head)
        if script.delay:
            await asyncio.sleep(script.delay)
        headers = list(script.headers)
        if script.echo_request_headers:
            headers += [(n, v) for n, v in request.headers if n.lower() not in (b"host", b"content-length")]
        if script.etag is not None:
            headers.append((b"ETag", script.etag))
            if _weak_match(request.header(b"if-none-match"), script.etag):
                await response.send(304, headers, b"")
                return
        await response.send(script.status, headers, script.body)


def _weak_match(if_none_match: bytes | None, etag: bytes) -> bool:
    """If-None-Match compares weakly (RFC 9110 §13.1.2): `W/"a"` matches `"a"`, any list member."""
    if if_none_match is None:
        return False
    opaque = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") in (opaque, b"*") for tag in if_none_match.split(b","))
