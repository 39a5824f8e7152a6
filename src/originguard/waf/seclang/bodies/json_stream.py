"""A yajl-shaped JSON reader for bodies the fast path refuses: same stops, same error texts.

yajl adds each scalar as it lexes it, so a body that breaks halfway keeps the arguments before the
break; ModSecurity's callbacks stop it at the depth or argument limit. This replays that, token by
token (slow, but only malformed bodies come here).
"""

from __future__ import annotations

import re
from typing import Final

from originguard.waf.seclang.bodies.result import BodyLimits

_WS: Final = re.compile(rb"[ \t\n\r\f\v]*")
_NUMBER: Final = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STRING_RUN: Final = re.compile(rb'[^"\\\x00-\x1f]*')
_ESCAPES: Final = {
    b'"': b'"',
    b"\\": b"\\",
    b"/": b"/",
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
}
_LITERALS: Final = {ord("t"): (b"true", b"true"), ord("f"): (b"false", b"false"), ord("n"): (b"null", b"")}
_CANCELLED: Final = "parse error: client cancelled parse via callback return value\n"


class JsonStop(Exception):
    """yajl stopped: `message` is its error text (after ModSecurity's "JSON parsing error: ")."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _lexical(text: str) -> JsonStop:
    return JsonStop(f"lexical error: {text}\n")


def _parse(text: str) -> JsonStop:
    return JsonStop(f"parse error: {text}\n")


class _Reader:
    def __init__(self, body: bytes, limits: BodyLimits, out: list[tuple[bytes, bytes]]) -> None:
        self.body = body
        self.pos = 0
        self.limits = limits
        self.out = out

    def skip_ws(self) -> int:
        match = _WS.match(self.body, self.pos)
        assert match is not None
        self.pos = match.end()
        return self.body[self.pos] if self.pos < len(self.body) else -1

    def value(self, path: bytes, depth: int, context: str) -> None:
        """Read one value at `path`; `context` is the parse error for a token that cannot start one."""
        c = self.skip_ws()
        if c == ord("{") or c == ord("["):
            if self.limits.json_depth is not None and depth >= self.limits.json_depth:
                raise JsonStop(_CANCELLED + ". Parsing depth limit exceeded")
            self.pos += 1
            if c == ord("{"):
                self.members(path, depth + 1)
            else:
                self.elements(path, depth + 1)
            return
        if c in (ord("}"), ord("]"), ord(","), ord(":")):
            self.lex_structural()
            raise _parse(context)
        self.add(path, self.scalar())

    def scalar(self) -> bytes:
        c = self.skip_ws()
        if c == -1:
            raise _parse("premature EOF")
        if c == ord('"'):
            return self.string()
        if c == ord("-") or ord("0") <= c <= ord("9"):
            return self.number()
        if c in _LITERALS:
            word, value = _LITERALS[c]
            end = self.pos + len(word)
            if self.body[self.pos : end] == word:
                self.pos = end
                return value
            raise _lexical("invalid string in json text.")
        if c == ord("/"):
            raise _lexical("probable comment found in input text, comments are not enabled.")
        raise _lexical("invalid char in json text.")

    def lex_structural(self) -> None:
        self.pos += 1

    def number(self) -> bytes:
        # yajl lexes a number to its end; one cut short by EOF is a lexical error, not "premature".
        match = _NUMBER.match(self.body, self.pos)
        body, start = self.body, self.pos
        if match is None:
            raise _lexical("malformed number, a digit is required after the minus sign.")
        end = match.end()
        if end < len(body) and body[end] == ord("."):
            raise _lexical("malformed number, a digit is required after the decimal point.")
        if end < len(body) and body[end] in b"eE":
            raise _lexical("malformed number, a digit is required after the exponent.")
        self.pos = end
        return body[start:end]

    def string(self) -> bytes:
        """Lex a string token as yajl does (validating all of it), then decode its content."""
        body = self.body
        start = i = self.pos + 1
        while True:
            run = _STRING_RUN.match(body, i)
            assert run is not None
            chunk = body[i : run.end()]
            if not chunk.isascii():
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError:
                    raise _lexical("invalid bytes in UTF8 string.") from None
            i = run.end()
            if i >= len(body):
                raise _parse("premature EOF")
            c = body[i : i + 1]
            if c == b'"':
                self.pos = i + 1
                return _yajl_decode(body[start:i])
            if c != b"\\":
                raise _lexical("invalid character inside string.")
            esc = body[i + 1 : i + 2]
            if esc == b"u":
                digits = body[i + 2 : i + 6]
                if len(digits) < 4 or not all(d in b"0123456789abcdefABCDEF" for d in digits):
                    raise _lexical("invalid (non-hex) character occurs after '\\u' inside string.")
                i += 6
            elif esc in _ESCAPES:
                i += 2
            else:
                raise _lexical("inside a string, '\\' occurs before a character which it may not.")

    def members(self, path: bytes, depth: int) -> None:
        c = self.skip_ws()
        if c == ord("}"):
            self.pos += 1
            return
        while True:
            c = self.skip_ws()
            if c == -1:
                raise _parse("premature EOF")
            if c != ord('"'):
                if c in b"{}[],:":
                    raise _parse("invalid object key (must be a string)")
                self.scalar()  # a lexical error wins over the parse error
                raise _parse("invalid object key (must be a string)")
            key = self.string()
            c = self.skip_ws()
            if c == -1:
                raise _parse("premature EOF")
            if c != ord(":"):
                if c not in b"{}[],":
                    self.scalar()
                raise _parse("object key and value must be separated by a colon (':')")
            self.pos += 1
            self.value(
                path + b"." + (key or b"empty-key"), depth, "unallowed token at this point in JSON text"
            )
            c = self.skip_ws()
            if c == ord(","):
                self.pos += 1
                continue
            if c == ord("}"):
                self.pos += 1
                return
            if c == -1:
                raise _parse("premature EOF")
            if c not in b"{}[]:":
                self.scalar()
            raise _parse("after key and value, inside map, I expect ',' or '}'")

    def elements(self, path: bytes, depth: int) -> None:
        c = self.skip_ws()
        if c == ord("]"):
            self.pos += 1
            return
        index = 0
        while True:
            self.value(b"%s.array_%d" % (path, index), depth, "unallowed token at this point in JSON text")
            index += 1
            c = self.skip_ws()
            if c == ord(","):
                self.pos += 1
                continue
            if c == ord("]"):
                self.pos += 1
                return
            if c == -1:
                raise _parse("premature EOF")
            if c not in b"{}[:":
                self.scalar()
            raise _parse("after array element, I expect ',' or ']'")

    def add(self, path: bytes, value: bytes) -> None:
        if self.limits.arguments is not None and len(self.out) >= self.limits.arguments:
            raise JsonStop(_CANCELLED)
        self.out.append((path, value))


def _yajl_decode(raw: bytes) -> bytes:
    """yajl_string_decode over a lexed string's content, its surrogate handling included.

    A high surrogate escape followed by any `\\u` escape is combined with it by yajl's formula;
    followed by anything else it becomes '?' and the next byte is skipped.
    """
    if b"\\" not in raw:
        return raw
    out = bytearray()
    beg = end = 0
    length = len(raw)
    while end < length:
        if raw[end] != 0x5C:  # backslash
            end += 1
            continue
        out += raw[beg:end]
        end += 1
        esc = raw[end : end + 1]
        unescaped = _ESCAPES.get(esc, b"?")
        if esc == b"u":
            code = int(raw[end + 1 : end + 5], 16)
            end += 4
            unescaped = _utf32_to_utf8(code)
            if code & 0xFC00 == 0xD800:
                end += 1
                if raw[end : end + 2] == b"\\u":
                    low = int(raw[end + 2 : end + 6], 16)
                    code = ((code & 0x3F) << 10) | ((((code >> 6) & 0xF) + 1) << 16) | (low & 0x3FF)
                    end += 5
                    unescaped = _utf32_to_utf8(code)
                else:
                    unescaped = b"?"
        out += unescaped
        end += 1
        beg = end
    out += raw[beg:end]
    return bytes(out)


def _utf32_to_utf8(code: int) -> bytes:
    """yajl's Utf32toUtf8: surrogates encoded like any code point, beyond 0x1FFFFF a '?'."""
    if code < 0x80:
        return bytes((code,))
    if code < 0x800:
        return bytes((0xC0 | code >> 6, 0x80 | code & 0x3F))
    if code < 0x10000:
        return bytes((0xE0 | code >> 12, 0x80 | (code >> 6) & 0x3F, 0x80 | code & 0x3F))
    if code < 0x200000:
        return bytes(
            (0xF0 | code >> 18, 0x80 | (code >> 12) & 0x3F, 0x80 | (code >> 6) & 0x3F, 0x80 | code & 0x3F)
        )
    return b"?"


def stream_arguments(body: bytes, limits: BodyLimits, out: list[tuple[bytes, bytes]]) -> None:
    """Append yajl's arguments for `body` to `out`; raise JsonStop where yajl stops."""
    reader = _Reader(body, limits, out)
    if reader.skip_ws() == -1:
        raise _parse("premature EOF")
    reader.value(b"json", 0, "unallowed token at this point in JSON text")
    if reader.skip_ws() != -1:
        raise _parse("trailing garbage")  # yajl reports any token after the value, even a bad one
