"""The demo app behind the gate: shows the request it received, minus secret headers."""

from __future__ import annotations

import asyncio

import orjson

from originguard.config.values import HostPort
from originguard.http.app import HttpApp
from originguard.http.limits import Limits
from originguard.http.message import Request
from originguard.http.server import HttpServer
from originguard.http.wire import render_response
from originguard.http.writer import ResponseWriter
from originguard.notify import notify_ready
from originguard.runtime import cannot_listen, install_uvloop, run_until_signalled

HEALTHY = render_response(200, [(b"Content-Type", b"text/plain")], b"ok\n", keep_alive=True)


class DemoApp(HttpApp):
    """Echoes method, path and headers as JSON; `secret_headers` (lower-case) are shown as `***`."""

    def __init__(self, secret_headers: frozenset[bytes] = frozenset(), name: str = "demo-app") -> None:
        self.secret_headers = secret_headers
        self.name = name
        self.requests_seen = 0
        self.last_headers: list[tuple[bytes, bytes]] = []

    def respond_now(self, request: Request) -> bytes | None:
        if request.path == b"/healthz":
            return HEALTHY if request.keep_alive else None
        return None

    def on_rejected(self, client_ip: str, status: int, reason: str) -> None:
        return None

    async def handle(self, request: Request, response: ResponseWriter) -> None:
        body = await request.body.read_all() if request.body is not None else b""
        if request.path == b"/healthz":
            await response.send(200, [(b"Content-Type", b"text/plain")], b"ok\n")
            return
        self.requests_seen += 1
        self.last_headers = list(request.headers)
        shown = [
            [n.decode("latin-1"), "***" if n.lower() in self.secret_headers else v.decode("latin-1")]
            for n, v in request.headers
        ]
        payload = {
            "app": self.name,
            "method": request.method.decode(),
            "path": request.path.decode("latin-1"),
            "query": request.query.decode("latin-1"),
            "headers": shown,
            "body_bytes": len(body),
        }
        await response.send(
            200,
            [(b"Content-Type", b"application/json"), (b"Cache-Control", b"max-age=60")],
            orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n",
        )


def serve_demo_app(address: HostPort, secret_headers: frozenset[bytes]) -> None:
    """Serve the demo app until SIGTERM/SIGINT."""
    install_uvloop()

    async def main() -> None:
        server = HttpServer(DemoApp(secret_headers), Limits())
        try:
            await server.listen(address)
        except OSError as exc:
            raise cannot_listen("demo-app", "--listen", "demo app", address, exc) from None
        notify_ready()
        await run_until_signalled()
        await server.shutdown()

    asyncio.run(main())
