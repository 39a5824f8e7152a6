"""Content codings: which of the codings we can send a request's Accept-Encoding takes (RFC 9110 §12.5.3).

`choose_coding(header, offered)` answers the coding to send (`b"br"`, `b"zstd"`, `b"gzip"`) or
`b""` for the identity, or None when the request refuses every coding we have, identity too
(`identity;q=0` or `*;q=0` without naming identity): the caller then sends the identity anyway, as
RFC 9110 allows a server that cannot honour the field (a 406 would break more clients than it helps).
Ties on q go to the caller's order of preference, not to the client's order: a browser's
`gzip, deflate, br, zstd` lists gzip first but means no preference.
"""

from __future__ import annotations

import re
from typing import Final

_MEMO_LIMIT: Final = 1024
"""Distinct Accept-Encoding values remembered; browsers send a handful, a flood only costs parsing."""

_QVALUE: Final = re.compile(rb"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")

# RFC 9110 §18.6: x-gzip is gzip under its old name.
_ALIASES: Final = {b"x-gzip": b"gzip"}

_memo: dict[tuple[bytes, tuple[bytes, ...]], bytes | None] = {}


def accepted_codings(header: bytes) -> dict[bytes, float]:
    """{coding: q} of an Accept-Encoding value, names lower-cased; a malformed q counts as 0."""
    weights: dict[bytes, float] = {}
    for item in header.split(b","):
        name, _, params = item.partition(b";")
        coding = name.strip().lower()
        coding = _ALIASES.get(coding, coding)
        if not coding:
            continue
        q = 1.0
        for param in params.split(b";"):
            key, _, value = param.partition(b"=")
            if key.strip().lower() == b"q":
                q = _qvalue(value.strip())
        weights[coding] = q
    return weights


def _qvalue(text: bytes) -> float:
    """RFC 9110 §12.4.2: `0[.ddd]` or `1[.000]`; anything else is not a weight we can trust."""
    return float(text.decode("ascii")) if _QVALUE.fullmatch(text) else 0.0


def choose_coding(header: bytes | None, offered: tuple[bytes, ...]) -> bytes | None:
    """The coding of `offered` (in preference order) to send, b"" for identity, None if all refused."""
    if not header:
        return b""  # no field: any coding is acceptable, but identity is what every client reads
    memo_key = (header, offered)
    found = _memo.get(memo_key, b"?")
    if found != b"?":
        return found
    chosen = _choose(accepted_codings(header), offered)
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    _memo[memo_key] = chosen
    return chosen


def _choose(weights: dict[bytes, float], offered: tuple[bytes, ...]) -> bytes | None:
    star = weights.get(b"*")
    best, best_q = b"", 0.0
    for coding in offered:
        q = weights.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    if best_q > 0.0:
        return best
    identity = weights.get(b"identity")
    if identity is None:
        identity = 0.0 if star == 0.0 else 1.0
    return b"" if identity > 0.0 else None
