# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Bytes on the wire: status lines, response rendering and the per-second Date header.

Rendering is on every hot path, so responses are built with one `b"".join` and the Date value is
formatted once per second by the server's clock tick rather than once per response.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Final

Header = tuple[bytes, bytes]

_REASONS: Final = {s.value: s.phrase.encode() for s in HTTPStatus}
_STATUS_LINES: Final = {code: b"HTTP/1.1 %d %s\r\n" % (code, phrase) for code, phrase in _REASONS.items()}


def not_connected(data: bytes) -> None:
    """A connection's write before its transport exists (its bound `transport.write` after)."""
    raise RuntimeError("write before connection_made")


class _DateHeader:
    """The current IMF-fixdate, refreshed at most once per second (RFC 9110 §6.6.1)."""

    __slots__ = ("line", "second")

    def __init__(self) -> None:
        self.second = -1
        self.line = b""
        self.refresh()

    def refresh(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second = now
            self.line = b"Date: " + email.utils.formatdate(now, usegmt=True).encode() + b"\r\n"
        return self.line


DATE: Final = _DateHeader()


def status_line(status: int) -> bytes:
    """`HTTP/1.1 <status> <reason>\\r\\n` (unknown codes get an empty reason, as RFC 9112 allows)."""
    line = _STATUS_LINES.get(status)
    return line if line is not None else b"HTTP/1.1 %d \r\n" % status


def reason_phrase(status: int) -> bytes:
    """The standard reason phrase of a status code."""
    return _REASONS.get(status, b"")


def render_head(status: int, headers: Iterable[Header], *, keep_alive: bool, date: bool = True) -> bytes:
    """Status line and header block; adds `Connection: close` when the connection will close."""
    parts = [status_line(status)]
    if date:
        parts.append(DATE.line)
    for name, value in headers:  # one join at the end: no formatting or tuple per field
        parts.append(name)
        parts.append(b": ")
        parts.append(value)
        parts.append(b"\r\n")
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def render_response(
    status: int,
    headers: Iterable[Header],
    body: bytes,
    *,
    keep_alive: bool,
    head_only: bool = False,
    date: bool = True,
) -> bytes:
    """A whole response with Content-Length; for HEAD the body is left out (RFC 9110 §9.3.2)."""
    all_headers = [*headers, (b"Content-Length", b"%d" % len(body))]
    head = render_head(status, all_headers, keep_alive=keep_alive, date=date)
    return head if head_only else head + body


def error_response(status: int, message: str = "") -> bytes:
    """A small plain-text error that closes the connection; never echoes request bytes."""
    text = (message or reason_phrase(status).decode()).encode() + b"\n"
    return render_response(status, [(b"Content-Type", b"text/plain")], text, keep_alive=False)
