"""Fixed responses and redirects, prebuilt as bytes at load so a deny costs a concatenation."""

from __future__ import annotations

from dataclasses import dataclass

from originguard.config.gate import FixedResponseAction, RedirectAction
from originguard.http.wire import DATE, render_head, status_line

Header = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class PrebuiltResponse:
    """Everything but the Date line, for keep-alive/close × GET/HEAD."""

    status: int
    status_line: bytes
    keep_alive: bytes
    close: bytes
    keep_alive_head: bytes
    close_head: bytes
    body_length: int

    def wire(self, *, keep_alive: bool, head_only: bool) -> bytes:
        """The response bytes with the current Date."""
        if head_only:
            rest = self.keep_alive_head if keep_alive else self.close_head
        else:
            rest = self.keep_alive if keep_alive else self.close
        return self.status_line + DATE.line + rest


def prebuild(status: int, headers: list[Header], body: bytes) -> PrebuiltResponse:
    """Prebuild a response; the Date line is spliced in per request."""
    all_headers = [*headers, (b"Content-Length", b"%d" % len(body))]
    line = status_line(status)

    def after_status(keep_alive: bool) -> bytes:
        return render_head(status, all_headers, keep_alive=keep_alive, date=False)[len(line) :]

    return PrebuiltResponse(
        status=status,
        status_line=line,
        keep_alive=after_status(True) + body,
        close=after_status(False) + body,
        keep_alive_head=after_status(True),
        close_head=after_status(False),
        body_length=len(body),
    )


def prebuild_fixed(action: FixedResponseAction) -> PrebuiltResponse:
    """A listener's fixed response (the gate's 403)."""
    return prebuild(
        action.status,
        [(b"Content-Type", action.content_type.encode()), (b"Cache-Control", b"no-store")],
        action.body.encode(),
    )


def redirect_location(
    action: RedirectAction, *, scheme: str, host: bytes, port: int, path: bytes, query: bytes
) -> bytes:
    """Fill the #{...} placeholders of a redirect (the balancer's syntax)."""
    hostname = host.decode("latin-1").rsplit(":", 1)[0] if b"]" not in host else host.decode("latin-1")
    values = {
        "#{protocol}": scheme,
        "#{host}": hostname,
        "#{port}": str(port),
        "#{path}": path.decode("latin-1").lstrip("/"),
        "#{query}": query.decode("latin-1"),
    }

    def fill(template: str) -> str:
        for key, value in values.items():
            template = template.replace(key, value)
        return template

    protocol = fill(action.protocol).lower()
    port_text = fill(action.port)
    default_port = {"https": "443", "http": "80"}.get(protocol)
    authority = fill(action.host) + ("" if port_text == default_port else f":{port_text}")
    query_text = fill(action.query)
    location = f"{protocol}://{authority}{fill(action.path)}" + (f"?{query_text}" if query_text else "")
    return location.encode("latin-1")
