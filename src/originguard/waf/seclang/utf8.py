"""`@validateUtf8Encoding`: ModSecurity 3's UTF-8 check, which differs from Python's decoder.

It refuses what RFC 3629 refuses (missing or bad continuation bytes, overlong forms, surrogates,
lead bytes 0xf5-0xff) but, like libmodsecurity, accepts 4-byte forms above U+10FFFF that start
with 0xf4, so the verdicts match ModSecurity's.
"""

from __future__ import annotations

from typing import Final

_MINIMUM: Final = {2: 0x80, 3: 0x800, 4: 0x10000}


def invalid_utf8(value: bytes) -> bool:
    """True when `value` is not valid UTF-8 by ModSecurity's rules (the operator matches)."""
    if value.isascii():
        return False
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c < 0x80:
            i += 1
            continue
        if c & 0xE0 == 0xC0:
            size, code = 2, c & 0x1F
        elif c & 0xF0 == 0xE0:
            size, code = 3, c & 0x0F
        elif c & 0xF8 == 0xF0 and c < 0xF5:
            size, code = 4, c & 0x07
        else:
            return True
        tail = value[i + 1 : i + size]
        if len(tail) < size - 1 or any(b & 0xC0 != 0x80 for b in tail):
            return True
        for b in tail:
            code = (code << 6) | (b & 0x3F)
        if 0xD800 <= code <= 0xDFFF or code < _MINIMUM[size]:
            return True
        i += size
    return False
