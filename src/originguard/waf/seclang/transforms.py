# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""SecLang transformations (`t:name`) with ModSecurity 3.0.15's byte-for-byte results.

Each transformation is `bytes -> bytes`. They reproduce libmodsecurity's code, quirks included
(the lower byte of `%uHHHH`, full-width ASCII shifted by 0x20, `strtol` of an entity wrapped to a
byte), because CRS's patterns were written against those results and the differential tests
compare rule ids with libmodsecurity. Names are matched case-insensitively, as ModSecurity's
lexer does. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Final

from originguard.waf.seclang.decode import (
    css_decode,
    escape_seq_decode,
    html_entity_decode,
    js_decode,
    normalize_path,
    url_decode,
    url_decode_uni,
    utf8_to_unicode,
)

_SPACE: Final = b" \t\n\v\f\r"


def _lowercase(value: bytes) -> bytes:
    return value.lower()  # ASCII only, as C's tolower in the "C" locale


def _uppercase(value: bytes) -> bytes:
    return value.upper()


def _remove_nulls(value: bytes) -> bytes:
    return value.replace(b"\x00", b"")


def _remove_whitespace(value: bytes) -> bytes:
    # 3.0.15 removes isspace() bytes and both bytes of a UTF-8 no-break space (0xa0 and 0xc2).
    return value.translate(None, b" \t\n\v\f\r\xa0\xc2")


_WHITESPACE_RUN: Final = re.compile(b"[ \t\n\v\f\r]+")


def _compress_whitespace(value: bytes) -> bytes:
    # 3.0.15 compares a signed char with 0xa0: a no-break space is kept
    return _WHITESPACE_RUN.sub(b" ", value)


# cmdLine: A-Z lowered and `, ; \t \r \n` made spaces in one table; quotes, `^` and `\` dropped.
_CMDLINE_TABLE: Final = bytes(
    c + 32 if 0x41 <= c <= 0x5A else 0x20 if c in b",;\t\r\n" else c for c in range(256)
)
_CMDLINE_DROP: Final = b"\"'\\^"
_SPACE_RUN: Final = re.compile(b" +")


def _cmd_line(value: bytes) -> bytes:
    """Windows and Unix shell evasions folded: quotes, `^` and `\\` dropped, separators one space,
    no space before `/` or `(` (3.0.15's loop, as three C-speed passes: dropped bytes never end
    a run of separators there either, so dropping first gives the same runs)."""
    folded = _SPACE_RUN.sub(b" ", value.translate(_CMDLINE_TABLE, _CMDLINE_DROP))
    return folded.replace(b" /", b"/").replace(b" (", b"(")


def _replace_comments(value: bytes) -> bytes:
    """`/* ... */` becomes one space; an unterminated comment runs to the end."""
    out = bytearray()
    i, n = 0, len(value)
    in_comment = False
    while i < n:
        if not in_comment:
            if value[i] == 0x2F and i + 1 < n and value[i + 1] == 0x2A:
                in_comment = True
                i += 2
            else:
                out.append(value[i])
                i += 1
        elif value[i] == 0x2A and i + 1 < n and value[i + 1] == 0x2F:
            in_comment = False
            i += 2
            out.append(0x20)
        else:
            i += 1
    if in_comment:
        out.append(0x20)
    return bytes(out)


def _remove_comments_char(value: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(value)
    while i < n:
        if value.startswith((b"/*", b"*/"), i):
            i += 2
        elif value.startswith(b"<!--", i):
            i += 4
        elif value.startswith(b"-->", i):
            i += 3
        elif value.startswith(b"--", i):
            i += 2
        elif value[i] == 0x23:
            i += 1
        else:
            out.append(value[i])
            i += 1
    return bytes(out)


def _remove_comments(value: bytes) -> bytes:
    """`/* */` and `<!-- -->` removed, `--` and `#` end the value (3.0.15's loop, quirks kept).

    An unterminated comment leaves one space; after a comment closes the next byte is copied
    unexamined, which at the end of the value is the string's terminating NUL."""
    out = bytearray()
    i, n = 0, len(value)
    in_comment = False
    while i < n:
        if not in_comment:
            if value.startswith((b"/*",), i):
                in_comment, i = True, i + 2
            elif value.startswith(b"<!--", i):
                in_comment, i = True, i + 4
            elif value.startswith(b"--", i) or value[i] == 0x23:
                break
            else:
                out.append(value[i])
                i += 1
        elif value.startswith(b"*/", i) or value.startswith(b"-->", i):
            i += 2 if value[i] == 0x2A else 3
            in_comment = False
            out.append(value[i] if i < n else 0)
            i += 1
        else:
            i += 1
    if in_comment:
        out.append(0x20)
    return bytes(out)


def _trim_left(value: bytes) -> bytes:
    return value.lstrip(_SPACE)


def _trim_right(value: bytes) -> bytes:
    return value.rstrip(_SPACE)


def _trim(value: bytes) -> bytes:
    return value.strip(_SPACE)


def _length(value: bytes) -> bytes:
    return str(len(value)).encode()


def _sha1(value: bytes) -> bytes:
    return hashlib.sha1(value, usedforsecurity=False).digest()


def _md5(value: bytes) -> bytes:
    return hashlib.md5(value, usedforsecurity=False).digest()


def _hex_encode(value: bytes) -> bytes:
    return value.hex().encode()


def _hex_decode(value: bytes) -> bytes:
    """Pairs through ModSecurity's x2c, which does not check its digits; an odd last byte is dropped."""
    return bytes(_x2c(value[i]) * 16 + _x2c(value[i + 1]) & 0xFF for i in range(0, len(value) - 1, 2))


def _x2c(c: int) -> int:
    return ((c & 0xDF) - 0x41 + 10) if c >= 0x41 else c - 0x30


def _base64_encode(value: bytes) -> bytes:
    return base64.b64encode(value)


def _base64_decode(value: bytes) -> bytes:
    """mbedTLS's strict decoding (up to a NUL); a value it refuses is left as it is."""
    text = value.split(b"\x00", 1)[0]
    significant = bytearray()
    i, n = 0, len(text)
    while i < n:
        spaces = 0
        while i < n and text[i] == 0x20:
            i += 1
            spaces += 1
        if i == n:
            break  # spaces at the end are allowed
        if text[i] == 0x0A or text.startswith(b"\r\n", i):
            i += 2 if text[i] == 0x0D else 1
            continue
        if spaces:
            return value  # a space inside a line
        significant.append(text[i])
        i += 1
    if not significant:
        return b""
    if (
        len(significant) % 4
        or significant.rstrip(b"=").count(b"=")
        or len(significant) - len(significant.rstrip(b"=")) > 2
    ):
        return value
    try:
        return base64.b64decode(bytes(significant), validate=True)
    except (binascii.Error, ValueError):
        return value


def _base64_decode_ext(value: bytes) -> bytes:
    """ModSecurity's forgiving decoder: bytes outside the alphabet skipped, its pad checks kept."""
    out = bytearray()
    phase = 0
    ch = -1
    for k, byte in enumerate(value):
        if byte == 0x3D:
            following = value[k + 1] if k + 1 < len(value) else 0
            if following != 0x3D and phase % 4 == 1:
                return b""
            ch = 0x3D
            continue
        ch = _B64_REVERSE[byte]
        if ch < 0:
            continue
        step = phase % 4
        if step == 0:
            out.append((ch << 2) & 0xFF)
        elif step == 1:
            out[-1] |= ch >> 4
            out.append((ch & 0x0F) << 4)
        elif step == 2:
            out[-1] |= ch >> 2
            out.append((ch & 0x03) << 6)
        else:
            out[-1] |= ch
        phase += 1
    # The C code counts whole bytes (`j`): the partial byte after the last full one is not output.
    whole = {0: 0, 1: 0, 2: 1, 3: 2}[phase % 4] + 3 * (phase // 4)
    if ch == 0x3D and phase % 4 == 1:  # 61 is both `=` and the value of `9`: the C check reads either
        return b""
    return bytes(out[:whole])


_B64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_REVERSE: Final = [_B64_ALPHABET.find(bytes([b])) if b in _B64_ALPHABET else -1 for b in range(256)]


def _url_encode(value: bytes) -> bytes:
    out = bytearray()
    for c in value:
        if c == 0x20:
            out.append(0x2B)
        elif 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c == 0x2A:
            out.append(c)
        else:
            out += b"%%%02x" % c
    return bytes(out)


def _sql_hex_decode(value: bytes) -> bytes:
    """`0x414243` → `ABC` (MySQL hex literals), other bytes as they are."""
    out = bytearray()
    i, n = 0, len(value)
    while i < n:
        if value[i] == 0x30 and i + 3 < n and value[i + 1] in b"xX" and _is_hex_pair(value, i + 2):
            i += 2
            while i + 1 < n and _is_hex_pair(value, i):
                out.append(int(value[i : i + 2], 16))
                i += 2
        else:
            out.append(value[i])
            i += 1
    return bytes(out)


def _is_hex_pair(value: bytes, i: int) -> bool:
    return value[i] in _HEX and value[i + 1] in _HEX


_HEX: Final = frozenset(b"0123456789abcdefABCDEF")


TRANSFORMS: Final[Mapping[str, Callable[[bytes], bytes]]] = {
    "lowercase": _lowercase,
    "uppercase": _uppercase,
    "urldecode": url_decode,
    "urldecodeuni": url_decode_uni,
    "urlencode": _url_encode,
    "htmlentitydecode": html_entity_decode,
    "jsdecode": js_decode,
    "cssdecode": css_decode,
    "escapeseqdecode": escape_seq_decode,
    "utf8tounicode": utf8_to_unicode,
    "removenulls": _remove_nulls,
    "removewhitespace": _remove_whitespace,
    "compresswhitespace": _compress_whitespace,
    "cmdline": _cmd_line,
    "replacecomments": _replace_comments,
    "removecommentschar": _remove_comments_char,
    "removecomments": _remove_comments,
    "normalizepath": lambda v: normalize_path(v, windows=False),
    "normalisepath": lambda v: normalize_path(v, windows=False),
    "normalizepathwin": lambda v: normalize_path(v, windows=True),
    "normalisepathwin": lambda v: normalize_path(v, windows=True),
    "trim": _trim,
    "trimleft": _trim_left,
    "trimright": _trim_right,
    "length": _length,
    "sha1": _sha1,
    "md5": _md5,
    "hexencode": _hex_encode,
    "hexdecode": _hex_decode,
    "base64encode": _base64_encode,
    "base64decode": _base64_decode,
    "base64decodeext": _base64_decode_ext,
    "sqlhexdecode": _sql_hex_decode,
}

# The bytes that can make a transformation change a value: a value holding none of them comes
# out as it went in (None: no such guarantee, the result is always computed). The engine skips
# a chain outright on such values, so a browser's plain header values cost one translate() per
# chain instead of a Python loop per transformation. Kept exact by a property test.
IDENTITY_UNSAFE: Final[Mapping[str, bytes | None]] = {
    "lowercase": bytes(range(0x41, 0x5B)),
    "uppercase": bytes(range(0x61, 0x7B)),
    "urldecode": b"%+",
    "urldecodeuni": b"%+",
    "urlencode": None,
    "htmlentitydecode": b"&",
    "jsdecode": b"\\",
    "cssdecode": b"\\",
    "escapeseqdecode": b"\\",
    "utf8tounicode": b"\x00" + bytes(range(0x80, 0x100)),  # NUL ends the C string
    "removenulls": b"\x00",
    "removewhitespace": _SPACE + b"\xa0\xc2",
    "compresswhitespace": _SPACE,
    "cmdline": bytes(range(0x41, 0x5B)) + b"\"'\\^ ,;\t\r\n/(",
    "replacecomments": b"*",
    "removecommentschar": b"*-#",
    "removecomments": b"*-#",
    "normalizepath": b"/.",
    "normalisepath": b"/.",
    "normalizepathwin": b"/.\\",
    "normalisepathwin": b"/.\\",
    "trim": _SPACE,
    "trimleft": _SPACE,
    "trimright": _SPACE,
    "length": None,
    "sha1": None,
    "md5": None,
    "hexencode": None,
    "hexdecode": None,
    "base64encode": None,
    "base64decode": None,
    "base64decodeext": None,
    "sqlhexdecode": b"xX",
}


def identity_safe_bytes(chain: tuple[str, ...]) -> bytes | None:
    """The bytes a value may hold for `chain` to leave it as it is (None: never assumed)."""
    unsafe: set[int] = set()
    for name in chain:
        bad = IDENTITY_UNSAFE.get(name)
        if bad is None:
            return None
        unsafe.update(bad)
    return bytes(c for c in range(256) if c not in unsafe)
