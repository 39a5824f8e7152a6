"""HTTP/1.1 bytes for `verify` probes (pure): the requests sent and the parse of what came back.

Probes write raw bytes rather than use a client library so that they send exactly what an attacker
or `curl` would, including values a library would normalise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

USER_AGENT: Final = b"originguard-verify"
# Enough for any fixed response or demo page; a larger answer is cut here (and judged on what came).
MAX_RESPONSE_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParsedResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


def request_bytes(path: str, host: str, extra: list[tuple[str, bytes]] | None = None) -> bytes:
    """A GET with `Connection: close`, so the response ends when the server closes."""
    lines = [
        f"GET {path} HTTP/1.1".encode("ascii"),
        b"Host: " + host.encode("idna"),
        b"User-Agent: " + USER_AGENT,
        b"Accept: */*",
        b"Connection: close",
    ]
    lines += [name.encode("ascii") + b": " + value for name, value in extra or []]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def host_header(host: str, port: int, default_port: int) -> str:
    """The Host value for an address: bracketed IPv6, the port only when not the scheme's default."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default_port else f"{shown}:{port}"


def response_complete(raw: bytes) -> bool:
    """Whether `raw` holds a whole response (by Content-Length or the last chunk); else read on."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    headers = _headers(head)
    length = _header(headers, b"content-length")
    if length is not None and length.strip().isdigit():
        return len(body) >= int(length)
    if (_header(headers, b"transfer-encoding") or b"").strip().lower() == b"chunked":
        return body.endswith(b"0\r\n\r\n")
    status = _status(head)
    return status is not None and (status in (204, 304) or 100 <= status < 200)


def parse_response(raw: bytes) -> ParsedResponse | None:
    """Status, headers and (de-chunked) body; None when the bytes are not an HTTP/1.x response."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    status = _status(head)
    if status is None:
        return None
    headers = _headers(head)
    body = rest
    length = _header(headers, b"content-length")
    if length is not None and length.strip().isdigit():
        body = rest[: int(length)]
    elif (_header(headers, b"transfer-encoding") or b"").strip().lower() == b"chunked":
        body = _dechunk(rest)
    return ParsedResponse(status, headers, body if sep else b"")


def _status(head: bytes) -> int | None:
    line = head.split(b"\r\n", 1)[0]
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        return None
    return int(parts[1])


def _headers(head: bytes) -> tuple[tuple[bytes, bytes], ...]:
    out = []
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            out.append((name.strip(), value.strip()))
    return tuple(out)


def _header(headers: tuple[tuple[bytes, bytes], ...], lower_name: bytes) -> bytes | None:
    return next((v for n, v in headers if n.lower() == lower_name), None)


def _dechunk(data: bytes) -> bytes:
    """Decode chunked transfer coding (RFC 9112 §7.1); a malformed tail keeps what was decoded."""
    body = b""
    while data:
        size_line, sep, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            break
        if not sep or size == 0:
            break
        body += data[:size]
        data = data[size + 2 :]
    return body
