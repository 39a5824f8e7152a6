"""Which upgrade requests are tunnelled, and which 101 answers one (pure; RFC 6455 §4, RFC 9110 §7.8).

Only the WebSocket handshake of RFC 6455 §4.1 over HTTP/1.1 is tunnelled: GET, `Connection`
listing `upgrade`, `Upgrade: websocket` and nothing else, a `Sec-WebSocket-Key` of 16 bytes in
base64, `Sec-WebSocket-Version: 13` and no body. Any other upgrade (`h2c` above all: an h2c
upgrade through a proxy that passes it on reaches the origin's HTTP/2 side past every path rule,
"h2c smuggling") keeps what every request gets: `Upgrade` is a hop-by-hop field, cut on the way,
so the next hop sees a plain request, and the connection closes after the answer.

    check_upgrade(method, index, has_body) -> UpgradeCheck("none" | "websocket" | "refused", reason)
    is_websocket_switch(status, headers) -> bool: the 101 that completes a handshake
    switching_head(headers, cuts) -> bytes: the 101 head for the hop below
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Final, Literal

from originguard.http.headers import HOP_BY_HOP, listed_names
from originguard.http.message import Request
from originguard.http.request_checks import HeaderIndex

Header = tuple[bytes, bytes]
UpgradeKind = Literal["none", "websocket", "refused"]

# What the next hop is sent to ask for the same upgrade (the viewer's own fields are hop-by-hop).
UPGRADE_REQUEST_FIELDS: Final[tuple[Header, ...]] = ((b"Connection", b"Upgrade"), (b"Upgrade", b"websocket"))
SWITCHING_STATUS_LINE: Final = b"HTTP/1.1 101 Switching Protocols\r\n"
_SWITCHING_FIELDS: Final = b"Connection: Upgrade\r\nUpgrade: websocket\r\n"


@dataclass(frozen=True, slots=True)
class UpgradeCheck:
    """What a request asks for: no upgrade, a WebSocket handshake we tunnel, or an upgrade we
    do not (`reason` says which rule it broke, for logs and tests)."""

    kind: UpgradeKind
    reason: str


NOT_AN_UPGRADE: Final = UpgradeCheck("none", "no Upgrade field")
WEBSOCKET: Final = UpgradeCheck("websocket", "RFC 6455 §4.1 handshake")


def check_upgrade(method: bytes, index: HeaderIndex, has_body: bool) -> UpgradeCheck:
    """Is this request a WebSocket handshake we tunnel (RFC 6455 §4.1, §4.2.1)?"""
    upgrades = index.get(b"upgrade")
    if upgrades is None:
        return NOT_AN_UPGRADE
    tokens = [token.strip().lower() for value in upgrades for token in value.split(b",")]
    if tokens != [b"websocket"]:
        return UpgradeCheck("refused", "only the websocket upgrade token is tunnelled")
    if method != b"GET":
        return UpgradeCheck("refused", "a WebSocket handshake is a GET (RFC 6455 §4.1)")
    if has_body:
        return UpgradeCheck("refused", "a WebSocket handshake has no body")
    listed = [name for value in index.get(b"connection", ()) for name in listed_names(value)]
    if b"upgrade" not in listed:
        return UpgradeCheck("refused", "Connection does not list upgrade (RFC 9110 §7.8)")
    versions = index.get(b"sec-websocket-version", ())
    if len(versions) != 1 or versions[0].strip() != b"13":
        return UpgradeCheck("refused", "Sec-WebSocket-Version must be 13 (RFC 6455 §4.1)")
    keys = index.get(b"sec-websocket-key", ())
    if len(keys) != 1 or not _is_key(keys[0].strip()):
        return UpgradeCheck("refused", "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 §4.1)")
    return WEBSOCKET


def is_websocket_handshake(request: Request) -> bool:
    """`check_upgrade` of a parsed request: is it a handshake to tunnel? (RFC 6455 §4.1: over
    HTTP/1.1; an HTTP/1.0 request cannot upgrade, RFC 9110 §7.8.)"""
    if request.version != b"1.1":
        return False
    return check_upgrade(request.method, request.header_index(), request.body is not None).kind == "websocket"


def _is_key(value: bytes) -> bool:
    if len(value) != 24:
        return False
    try:
        return len(binascii.a2b_base64(value, strict_mode=True)) == 16
    except binascii.Error:
        return False


def is_websocket_switch(status: int, headers: list[Header]) -> bool:
    """Does this response complete a WebSocket handshake (101 with `Upgrade: websocket`)?
    A 101 to anything else is not something we asked for."""
    if status != 101:
        return False
    upgrades = [value.strip().lower() for name, value in headers if name.lower() == b"upgrade"]
    return upgrades == [b"websocket"]


def switching_head(headers: list[Header], cuts: frozenset[bytes] = frozenset()) -> bytes:
    """The 101 head for the hop below: the upstream's fields (Sec-WebSocket-Accept, -Protocol,
    -Extensions...) without hop-by-hop ones and `cuts` (lower-case), with our own Connection and
    Upgrade lines (RFC 6455 §4.2.2)."""
    lines = [SWITCHING_STATUS_LINE, _SWITCHING_FIELDS]
    for name, value in headers:
        lower = name.lower()
        if lower not in HOP_BY_HOP and lower not in cuts:
            lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    return b"".join(lines)
