"""A small admin HTTP app (metrics, health, state as JSON) served on a separate port."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import orjson

from originguard.http.app import HttpApp
from originguard.http.message import Request
from originguard.http.writer import ResponseWriter

Reply = tuple[int, bytes, bytes]  # status, content type, body
Route = Callable[[Request, bytes], Awaitable[Reply]]


def json_reply(value: object, status: int = 200) -> Reply:
    return status, b"application/json", orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


class AdminApp(HttpApp):
    """Routes by (method, path); routes marked protected need `Authorization: Bearer <token>`."""

    def __init__(self, token: bytes | None = None) -> None:
        self.routes: dict[tuple[bytes, bytes], tuple[Route, bool]] = {}
        self.token = token

    def route(self, method: bytes, path: bytes, handler: Route, *, protected: bool = False) -> None:
        self.routes[(method, path)] = (handler, protected)

    def respond_now(self, request: Request) -> bytes | None:
        return None

    def on_rejected(self, client_ip: str, status: int, reason: str) -> None:
        return None

    async def handle(self, request: Request, response: ResponseWriter) -> None:
        entry = self.routes.get((request.method, request.path))
        if entry is None:
            known = any(path == request.path for _, path in self.routes)
            status = 405 if known else 404
            await response.send(
                status, [(b"Content-Type", b"text/plain")], b"not found\n" if status == 404 else b""
            )
            return
        handler, protected = entry
        if protected and not self._authorized(request):
            await response.send(
                401, [(b"Content-Type", b"text/plain"), (b"WWW-Authenticate", b"Bearer")], b""
            )
            return
        body = await request.body.read_all() if request.body is not None else b""
        status, content_type, payload = await handler(request, body)
        await response.send(
            status, [(b"Content-Type", content_type), (b"Cache-Control", b"no-store")], payload
        )

    def _authorized(self, request: Request) -> bool:
        if self.token is None:
            return False  # a protected route with no token configured stays closed
        given = request.header(b"authorization") or b""
        return hmac.compare_digest(given, b"Bearer " + self.token)
