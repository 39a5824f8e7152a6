"""Interim (1xx) responses from an upstream: which go on to the client, and in what shape (pure).

A proxy forwards the 1xx responses it receives (RFC 9110 §15.2), 103 Early Hints above all (RFC
8297: a browser starts fetching what `Link` preloads while the origin still renders the page). Three
exceptions:

- 100 Continue: our own server answers the client's `Expect: 100-continue` when the app first reads
  the body (http/body.py); the upstream's 100 answers our request, not the client's.
- 101 Switching Protocols: unless we asked for an upgrade (a WebSocket handshake, where the 101 is
  the response: http/client.py `_switch`, http/tunnel.py), an unasked-for 101 makes the response
  invalid (RFC 9110 §15.2.2).
- More than MAX_INTERIM_RESPONSES on one request: an upstream could otherwise hold a response open
  forever with an endless run of small heads, each restarting the read timeout. As nginx refuses
  what it cannot bound, the client gets a 502.

A client on HTTP/1.0 gets none (RFC 9110 §15.2: a server must not send it a 1xx response), and
nothing interim is ever stored: a cache hit serves the final response alone (RFC 9111 §3).

    interim_action(status, seen) -> "drop" | "forward" | "refuse"
    interim_head(raw, cuts, added) -> bytes: the head for the client, cut fields removed
    render_interim(status, fields) -> bytes: an interim head an app sends itself
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from originguard.http.headers import listed_names

Header = tuple[bytes, bytes]
InterimAction = Literal["drop", "forward", "refuse"]

MAX_INTERIM_RESPONSES: Final = 8  # per request; the next one is refused (a 502 to the client)

# RFC 9110 §8.6, §6.1: a 1xx response carries no content, so it has no framing fields to pass on.
_FRAMING: Final = frozenset({b"content-length", b"transfer-encoding"})
_REASONS: Final = {100: b"Continue", 102: b"Processing", 103: b"Early Hints"}


def interim_action(status: int, seen: int) -> InterimAction:
    """What a proxy does with the `seen`-th (counted from 1) interim response of one request."""
    if status == 100:
        return "drop"
    if status == 101:
        return "refuse"
    return "refuse" if seen > MAX_INTERIM_RESPONSES else "forward"


def interim_head(raw: bytes, cuts: frozenset[bytes], added: bytes = b"") -> bytes:
    """The interim head `raw` (status line through its last field's CRLF, as llhttp accepted it) as
    a client gets it: on an HTTP/1.1 status line, without `cuts` (lower-case: the hop-by-hop fields
    at least), the fields Connection lists or framing fields, with `added` (CRLF-ended lines)."""
    lines = raw.split(b"\r\n")
    fields: list[tuple[bytes, bytes]] = []
    listed: set[bytes] = set()
    for line in lines[1:-1]:
        name, _, value = line.partition(b":")
        lower = name.lower()
        if lower == b"connection":
            listed.update(listed_names(value))
        fields.append((lower, line))
    parts = [b"HTTP/1.1" + lines[0][8:]]  # llhttp accepted `HTTP/d.d SP`: the version is 8 bytes
    parts.extend(
        line for lower, line in fields if lower not in cuts and lower not in listed and lower not in _FRAMING
    )
    return b"\r\n".join(parts) + b"\r\n" + added + b"\r\n"


def render_interim(status: int, fields: Iterable[Header]) -> bytes:
    """An interim head an app sends before its final response (the demo app's 103)."""
    if not 100 <= status < 200 or status == 101:
        raise ValueError(f"{status} is not an interim status an app may send")
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b""))]
    lines.extend(b"%s: %s\r\n" % field for field in fields)
    lines.append(b"\r\n")
    return b"".join(lines)
