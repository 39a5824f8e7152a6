# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Responses prebuilt as bytes at load, so a deny costs a concatenation (the gate's fixed
responses, the edge's WAF blocks)."""

from __future__ import annotations

from dataclasses import dataclass

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
