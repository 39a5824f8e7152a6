"""The demo app behind the gate: shows the request it received, minus secret headers.

Two more paths show early hints through the stack (http/interim.py): `/early-hints` sends a 103
that preloads `/static/app.js` before its HTML page, and `/static/app.js` is a cacheable script.
`/ws` is a WebSocket echo (demo_websocket.py), for tunnels through edge and gate.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Final

import orjson

from originguard.config.values import HostPort
from originguard.demo_websocket import serve_echo, switching_response
from originguard.http.app import HttpApp
from originguard.http.interim import render_interim
from originguard.http.limits import Limits
from originguard.http.message import Request
from originguard.http.server import HttpServer
from originguard.http.upgrade import check_upgrade
from originguard.http.wire import render_response
from originguard.http.writer import ResponseWriter
from originguard.notify import notify_ready
from originguard.runtime import cannot_listen, install_uvloop, run_until_signalled

HEALTHY = render_response(200, [(b"Content-Type", b"text/plain")], b"ok\n", keep_alive=True)

EARLY_HINTS: Final = render_interim(103, [(b"Link", b"</static/app.js>; rel=preload; as=script")])
PAGE: Final = (
    b"<!doctype html>\n<html><head><meta charset=utf-8><title>Early hints</title>\n"
    b'<script src="/static/app.js" defer></script></head>\n'
    b"<body><h1>Early hints</h1><p>The 103 before this page told the browser to fetch "
    b"<code>/static/app.js</code> already.</p></body></html>\n"
)


def app_script(widgets: int = 46) -> bytes:
    """A plausible JavaScript asset, the same bytes on every run (its ETag is stable): about 14 KiB,
    repetitive enough that compression has something to do."""
    parts = [b'"use strict";\n// originguard demo asset: widgets rendered into the page.\n']
    for index in range(widgets):
        parts.append(
            b"function renderWidget%d(root, data) {\n"
            b'  const node = document.createElement("section");\n'
            b'  node.className = "widget widget-%d";\n'
            b"  node.dataset.index = String(%d);\n"
            b'  node.textContent = data && data.title ? data.title : "Widget %d";\n'
            b"  root.appendChild(node);\n"
            b"  return node;\n"
            b"}\n" % (index, index % 7, index, index)
        )
    parts.append(b'document.addEventListener("DOMContentLoaded", () => {\n  const root = document.body;\n')
    parts.extend(b"  renderWidget%d(root, null);\n" % index for index in range(widgets))
    parts.append(b"});\n")
    return b"".join(parts)


APP_JS: Final = app_script()
APP_JS_ETAG: Final = b'"' + hashlib.sha256(APP_JS).hexdigest()[:32].encode() + b'"'  # strong
APP_JS_HEADERS: Final = [
    (b"Content-Type", b"text/javascript; charset=utf-8"),
    (b"Cache-Control", b"public, max-age=3600"),
    (b"ETag", APP_JS_ETAG),
]


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
        if request.path.startswith(b"/ws"):
            await self._websocket(request, response)
            return
        if request.path == b"/early-hints":
            response.send_interim(EARLY_HINTS)  # RFC 8297; the writer skips it for HTTP/1.0
            headers = [(b"Content-Type", b"text/html; charset=utf-8"), (b"Cache-Control", b"max-age=60")]
            await response.send(200, headers, PAGE)
            return
        if request.path == b"/static/app.js":
            if _matches(request.header_values(b"if-none-match"), APP_JS_ETAG):
                await response.send(304, APP_JS_HEADERS, b"")
            else:
                await response.send(200, APP_JS_HEADERS, APP_JS)
            return
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

    async def _websocket(self, request: Request, response: ResponseWriter) -> None:
        check = check_upgrade(request.method, request.header_index(), request.body is not None)
        key = request.header(b"sec-websocket-key")
        if check.kind != "websocket" or key is None:
            # RFC 6455 §4.2.2: 426 names the upgrade this resource wants.
            await response.send(426, [(b"Upgrade", b"websocket"), (b"Content-Type", b"text/plain")], b"")
            return
        response.switch_protocols(switching_response(key))
        await serve_echo(response.conn)


def _matches(if_none_match: tuple[bytes, ...], etag: bytes) -> bool:
    """RFC 9110 §13.1.2: `*` or any listed tag equal to `etag` by the weak comparison."""
    for value in if_none_match:
        for tag in value.split(b","):
            tag = tag.strip()
            if tag == b"*" or tag.removeprefix(b"W/") == etag:
                return True
    return False


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
