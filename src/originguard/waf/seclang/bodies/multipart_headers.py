"""The two header grammars of ModSecurity's multipart parser: the request's Content-Type boundary
and a part's Content-Disposition, with the flags and error texts of multipart.cc.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

_BOUNDARY_CHARS: Final = frozenset(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? "
)
_NOT_TOKEN: Final = frozenset(b'()<>@,;:\\"/[]?=')
C_SPACE: Final = b" \t\n\v\f\r"  # C's isspace()


class Boundary(NamedTuple):
    """init()'s outcome: the boundary (None: do not parse) and what it flagged."""

    boundary: bytes | None
    error: str | None
    flag_error: bool = False
    missing_semicolon: bool = False
    whitespace: bool = False
    quoted: bool = False


def _count_boundary_params(value: bytes) -> int:
    lowered = value.lower()
    count = 0
    at = lowered.find(b"boundary")
    while at != -1:
        if b"=" in lowered[at + 8 :]:
            count += 1
        at = lowered.find(b"boundary", at + 8)
    return count


def _fail(message: str) -> Boundary:
    return Boundary(None, "Multipart: " + message, flag_error=True)


def parse_boundary(content_type: bytes) -> Boundary:
    """Multipart::init: the boundary from Content-Type, or the error that stops the parser."""
    header = content_type.split(b"\0", 1)[0]
    if not header:
        return _fail("Content-Type header not available.")
    if len(header) > 1024:
        return _fail("Invalid boundary in C-T (length).")
    if header[:19].lower() != b"multipart/form-data":
        return _fail("Invalid MIME type.")
    if _count_boundary_params(header) > 1:
        return _fail("Multiple boundary parameters in C-T.")
    at = header.find(b"boundary")
    if at == -1:
        if _count_boundary_params(header) > 0:
            return _fail("Invalid boundary in C-T (case sensitivity).")
        return _fail("Boundary not found in C-T.")
    seen_semicolon = False
    for c in header[19:at]:
        if c in C_SPACE:
            continue
        if not seen_semicolon and c == ord(";"):
            seen_semicolon = True
        else:
            return _fail("Invalid boundary in C-T (malformed).")
    equals = header.find(b"=", at + 8)
    if equals == -1:
        return _fail("Invalid boundary in C-T (malformed).")
    whitespace = False
    for c in header[at + 8 : equals]:
        if c not in C_SPACE:
            return _fail("Invalid boundary in C-T (parameter name).")
        whitespace = True
    value = header[equals + 1 :]
    if value[:1] and value[0] in C_SPACE:
        whitespace = True
    quoted = len(value) >= 2 and value[:1] == b'"' and value[-1:] == b'"'
    if quoted:
        value = value[1:-1]
        if not value:
            return Boundary(None, None, missing_semicolon=not seen_semicolon, whitespace=whitespace)
    elif value[:1] == b'"' or (len(value) >= 2 and value[-1:] == b'"'):
        return _fail("Invalid boundary in C-T (quote).")
    else:
        value = value.split(b";", 1)[0]  # an unquoted boundary ends at the next parameter
        if not value:
            return Boundary(None, None, missing_semicolon=not seen_semicolon, whitespace=whitespace)
    flags = {"missing_semicolon": not seen_semicolon, "whitespace": whitespace, "quoted": quoted}
    if _count_boundary_params(value) != 0:
        return Boundary(None, "Multipart: Invalid boundary in C-T (content).", True, **flags)
    if not _valid_boundary_chars(value):
        return Boundary(None, "Multipart: Invalid boundary in C-T (characters).", True, **flags)
    return Boundary(value, None, **flags)


def _valid_boundary_chars(value: bytes) -> bool:
    """RFC 2046 §5.1.1 bchars, as boundary_characters_valid checks them (no space at the end)."""
    return all(c in _BOUNDARY_CHARS for c in value) and not value.endswith(b" ")


class Disposition(NamedTuple):
    """parse_content_disposition's result: rc (<0 an error), the names seen, invalid quoting."""

    rc: int
    name: bytes | None
    filename: bytes | None
    seen_names: tuple[bytes, ...]
    seen_filenames: tuple[bytes, ...]
    invalid_quoting: bool


class _Seen:
    __slots__ = ("filename", "name", "quoting")

    def __init__(self, name: bytes | None, filename: bytes | None) -> None:
        self.name = name
        self.filename = filename
        self.quoting = False


_PLAIN_DISPOSITION: Final = re.compile(
    rb'form-data[ \t]*;[ \t]*name="([^"\\\']*)"(?:[ \t]*;[ \t]*filename="([^"\\\']*)")?[ \t]*'
)


def parse_disposition(value: bytes, name: bytes | None = None, filename: bytes | None = None) -> Disposition:
    """Multipart::parse_content_disposition over a C string (the header holds no NUL).

    `name` and `filename` are what the part already holds: a part whose header failed is parsed
    again at each blank line, and 3.0.15 then finds its name set, so a second `name=` is a
    duplicate (-14) before any `filename=` is read (measured: the filename is reported once).
    """
    plain = _PLAIN_DISPOSITION.fullmatch(value)
    if (
        plain and not name and not filename
    ):  # what browsers send: the byte loop agrees, at a fifth of the cost
        plain_name, plain_filename = plain.group(1), plain.group(2)
        if plain_name and (plain_filename is None or plain_filename):
            files = () if plain_filename is None else (plain_filename,)
            return Disposition(1, plain_name, plain_filename, (plain_name,), files, False)
    return _parse_disposition(value, name or None, filename or None)


def _parse_disposition(value: bytes, name: bytes | None, filename: bytes | None) -> Disposition:
    names: list[bytes] = []
    filenames: list[bytes] = []
    state = _Seen(name, filename)

    def done(rc: int) -> Disposition:
        return Disposition(rc, state.name, state.filename, tuple(names), tuple(filenames), state.quoting)

    if not value.startswith(b"form-data"):
        return done(-1)
    n = len(value)
    p = 9
    while p < n and value[p] in b"\t ":
        p += 1
    if p == n:
        return done(1)
    if value[p] != ord(";"):
        return done(-2)
    p += 1
    while p < n:
        while p < n and value[p] in b"\t ":
            p += 1
        if p == n:
            return done(-3)
        start = p
        while p < n and value[p] not in b"=\t ":
            p += 1
        if p == n:
            return done(-4)
        param = value[start:p]
        while p < n and value[p] in b"\t ":
            p += 1
        if p == n:
            return done(-5)
        if value[p] != ord("="):
            return done(-13)
        p += 1
        while p < n and value[p] in b"\t ":
            p += 1
        if p == n:
            return done(-6)
        if value[p] in b"\"'":
            quote = value[p]
            if quote == ord("'"):
                state.quoting = True
            p += 1
            if p == n:
                return done(-7)
            out = bytearray()
            closed = False
            while p < n:
                c = value[p]
                if c == 0x5C:  # backslash: only the quote and itself are escapes; IE's others pass
                    if p + 1 == n:
                        return done(-8)
                    if value[p + 1] in (quote, 0x5C):
                        p += 1
                elif c == quote:
                    closed = True
                    break
                out.append(value[p])
                p += 1
            if not closed:
                state.quoting = True
                return done(-10)  # an unterminated quoted value
            p += 1
            text = bytes(out)
        else:
            start = p
            while p < n and 32 < value[p] < 127 and value[p] not in _NOT_TOKEN:
                p += 1
            text = value[start:p]
            if b"'" in text:
                state.quoting = True  # only an unquoted value is checked for a stray quote
        if param in (b"name", b"filename"):
            if param == b"name":
                names.append(text)
                if state.name:
                    return done(-14)
                state.name = text
            else:
                filenames.append(text)
                if state.filename:
                    return done(-15)
                state.filename = text
        else:
            return done(-11)
        if p < n:
            while p < n and value[p] in b"\t ":
                p += 1
            if p >= n:
                return done(1)
            if value[p] != ord(";"):
                if value[p - 1] in b"'\"":
                    state.quoting = True
                return done(-12)
            p += 1
    return done(1)
