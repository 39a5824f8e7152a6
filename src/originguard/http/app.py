# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""What an HTTP server serves: the base class of every application (gate, edge, admin, demo).

A class rather than a Protocol so that the compiled connection calls `respond_now` through a
native vtable instead of a Python method lookup (about a thousand instructions per request).
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from originguard.http.endpoints import ViewerEnd
from originguard.http.message import Request
from originguard.http.writer import ResponseWriter


@mypyc_attr(allow_interpreted_subclasses=True)
class HttpApp:
    """A fast synchronous answer where possible (`respond_now`), else a coroutine (`handle`)."""

    def respond_now(self, request: Request) -> bytes | None:
        """Whole response bytes for a body-less request, or None to run `handle`."""
        return None

    def begin(self, request: Request, client: ViewerEnd) -> bool:
        """Take the request without a coroutine (a relay, http/relay.py): True if taken, and the
        app then ends it with `client.relay_done`; False runs `handle`."""
        return False

    async def handle(self, request: Request, response: ResponseWriter) -> None:
        """Answer one request (may read its body and stream the response)."""
        raise NotImplementedError

    def on_rejected(self, client_ip: str, status: int, reason: str) -> None:
        """A request was refused by the parser or a limit (for the access log and metrics)."""
        return None
