"""application/x-www-form-urlencoded as ModSecurity 3 splits and decodes it (transaction.cc).

Pairs split on every `&` the way `std::getline` does (a trailing `&` yields nothing, `&&` an empty
pair), then on the first `=`; names and values are %-decoded leniently: `+` is a space, an invalid
or truncated escape keeps its `%`; an invalid one in a value sets URLENCODED_ERROR.
"""

from __future__ import annotations

import re
from typing import Final

from originguard.waf.seclang.bodies.result import BodyLimits, BodyResult

_ESCAPE: Final = re.compile(rb"%([0-9A-Fa-f]{2})")
_INVALID: Final = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_HEX_BYTE: Final = {f"{i:02x}".encode(): bytes((i,)) for i in range(256)}


def parse_urlencoded(body: bytes, limits: BodyLimits) -> BodyResult:
    """ARGS_POST from a form body, in body order, with ModSecurity's decoding."""
    args: list[tuple[bytes, bytes]] = []
    invalid = False
    pieces = body.split(b"&")
    if pieces and not pieces[-1]:
        pieces.pop()  # getline stops at the last delimiter: no empty pair after a trailing '&'
    cap = limits.arguments
    for piece in pieces:
        name, _, value = piece.partition(b"=")
        name, _ = urldecode_lenient(name)
        # Only the value's verdict reaches URLENCODED_ERROR: ModSecurity resets the count per call.
        value, bad_value = urldecode_lenient(value)
        invalid = invalid or bad_value
        if cap is None or len(args) < cap:
            args.append((name, value))
    return BodyResult("URLENCODED", args=tuple(args), urlencoded_error=invalid)


def urldecode_lenient(raw: bytes) -> tuple[bytes, bool]:
    """ModSecurity's urldecode_nonstrict: (decoded bytes, whether an invalid escape was kept)."""
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" not in raw:
        return raw, False
    decoded = _ESCAPE.sub(_unescape, raw)
    # Any '%' that does not start two hex digits is kept and counts as invalid.
    return decoded, _INVALID.search(raw) is not None


def _unescape(match: re.Match[bytes]) -> bytes:
    return _HEX_BYTE[match.group(1).lower()]
