# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Text transformations applied, in order, to a field before a statement matches it.

Each is a total function str -> str: malformed input (a lone `%`, bad base64, a cut-off escape) is left
as it is, never an error, because attackers control the input and the WAF must still decide.
"""

from __future__ import annotations

import base64
import binascii
import html
import posixpath
import re
from collections.abc import Callable, Sequence
from typing import Final
from urllib.parse import unquote_to_bytes

from originguard.config.waf import Transform

TransformFn = Callable[[str], str]

_PERCENT_U: Final = re.compile(rb"%(?:[uU]([0-9A-Fa-f]{4})|([0-9A-Fa-f]{2}))")
_WHITESPACE: Final = re.compile(r"[\s\x0b\xa0]+")
_SLASHES: Final = re.compile(r"/{2,}")
_C_COMMENT: Final = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_JS_ESCAPE: Final = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|([0-7]{1,3})|(.))", re.DOTALL)
_JS_SIMPLE: Final = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}
_CMD_DROPPED: Final = ("\\", '"', "'", "^")
_CMD_SPACE_BEFORE: Final = re.compile(r"\s+(?=[/(])")


def _bytes_to_text(raw: bytes) -> str:
    # latin-1 keeps one char per byte so nothing an attacker encodes disappears; utf-8 text is re-read
    # as utf-8 when it is valid so that regexes over non-ASCII words still work.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def url_decode(value: str) -> str:
    """Decode `%XX` escapes and `+` as a space; invalid escapes stay as they are."""
    if "%" not in value:
        return value.replace("+", " ") if "+" in value else value
    raw = value.replace("+", " ").encode("utf-8", "surrogatepass")
    # unquote_to_bytes reads `%XX` as `%([0-9A-Fa-f]{2})` would, without a Python call per escape.
    return _bytes_to_text(unquote_to_bytes(raw))


def url_decode_uni(value: str) -> str:
    """Like url_decode, and also the IIS `%uXXXX` form that some servers still accept (one pass)."""
    if "%u" not in value and "%U" not in value:
        return url_decode(value)  # 1.9 -> 1.2 µs on `1%20union%20select%201,2`
    raw = value.replace("+", " ").encode("utf-8", "surrogatepass")
    return _bytes_to_text(_PERCENT_U.sub(_percent_uni, raw))


def _percent_uni(match: re.Match[bytes]) -> bytes:
    if match.group(1) is not None:
        return chr(int(match.group(1), 16)).encode("utf-8", "surrogatepass")
    return bytes((int(match.group(2), 16),))


def lowercase(value: str) -> str:
    """Lower-case the whole value."""
    return value.lower()


def html_entity_decode(value: str) -> str:
    """Decode named and numeric character references, with or without the closing `;` (HTML5 rules)."""
    return html.unescape(value) if "&" in value else value


def compress_white_space(value: str) -> str:
    """Turn every run of whitespace (including tab, newline, VT, FF, NBSP) into one space."""
    return _WHITESPACE.sub(" ", value)


def remove_nulls(value: str) -> str:
    """Delete NUL characters, which C-based backends treat as the end of a string."""
    return value.replace("\x00", "")


def normalize_path(value: str) -> str:
    """Collapse `//`, drop `./` and resolve `../` the way a server maps a URL path to a file."""
    if not value:
        return value
    normal = posixpath.normpath(_SLASHES.sub("/", value))
    if normal == ".":
        normal = "" if not value.startswith("/") else "/"
    if value.endswith("/") and not normal.endswith("/"):
        normal += "/"
    return normal


def base64_decode(value: str) -> str:
    """Decode standard or URL-safe base64 (padding optional); anything else stays as it is."""
    compact = "".join(value.split())
    if not compact:
        return value
    padded = compact + "=" * (-len(compact) % 4)
    try:
        if "-" in padded or "_" in padded:
            raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        else:
            raw = base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return value
    return _bytes_to_text(raw)


# Text holding none of these (nor a whitespace other than the space: CMD_LINE_SPACES) comes out of
# cmd_line only lower-cased: nothing to drop or turn into a space, no run of spaces, no space before `/`
# or `(`. `quiet` proves fields quiet with them.
CMD_LINE_TRIGGERS: Final = ("\\", '"', "'", "^", ",", ";", "  ", " /", " (")
# Every whitespace but the space, as alternatives of one character: they join flat into a field's
# search, where `[^\S ]` made it 3-4x slower (sre skips ahead only to alternatives' first literals).
_NON_SPACE_WHITESPACE: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
CMD_LINE_SPACES: Final = "|".join(re.escape(char) for char in _NON_SPACE_WHITESPACE)


def cmd_line(value: str) -> str:
    """Undo shell obfuscation: drop `\\ " ' ^`, `,`/`;` to space, no space before `/` or `(`, lower-case."""
    # Replaces and guarded subs, not str.translate with a dict and two regex passes (4.7 -> 1.1 µs on
    # a 75-character JSON body): a `\s` other than the space is never printable.
    for dropped in _CMD_DROPPED:
        if dropped in value:
            value = value.replace(dropped, "")
    if "," in value:
        value = value.replace(",", " ")
    if ";" in value:
        value = value.replace(";", " ")
    if "/" in value or "(" in value:
        value = _CMD_SPACE_BEFORE.sub("", value)
    if not value.isprintable():
        value = _WHITESPACE.sub(" ", value)
    while "  " in value:  # only spaces left: halve each run until none is longer than one
        value = value.replace("  ", " ")
    return value.lower()


def replace_comments(value: str) -> str:
    """Replace each C-style `/* ... */` comment (and an unterminated one) with a space."""
    return _C_COMMENT.sub(" ", value) if "/*" in value else value


def js_decode(value: str) -> str:
    """Decode JavaScript escapes: `\\xHH`, `\\uHHHH`, octal `\\OOO` and `\\n`-style letters."""
    if "\\" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        hex2, hex4, octal, other = match.groups()
        if hex2 or hex4:
            return chr(int(hex2 or hex4, 16))
        if octal:
            return chr(int(octal, 8) & 0xFF)
        return _JS_SIMPLE.get(other, other)

    return _JS_ESCAPE.sub(one, value)


TRANSFORMS: Final[dict[Transform, TransformFn]] = {
    "url_decode": url_decode,
    "url_decode_uni": url_decode_uni,
    "lowercase": lowercase,
    "html_entity_decode": html_entity_decode,
    "compress_white_space": compress_white_space,
    "remove_nulls": remove_nulls,
    "normalize_path": normalize_path,
    "base64_decode": base64_decode,
    "cmd_line": cmd_line,
    "replace_comments": replace_comments,
    "js_decode": js_decode,
}


# Characters without which a transform returns its input unchanged. Tested once on all the values of a
# field joined together (a header list has ~10), which costs less than calling the transform per value.
_TRIGGERS: Final[dict[Transform, tuple[str, ...]]] = {
    "url_decode": ("%", "+"),
    "url_decode_uni": ("%", "+"),
    "html_entity_decode": ("&",),
    "remove_nulls": ("\x00",),
    "replace_comments": ("/*",),
    "js_decode": ("\\",),
}


def triggers(name: Transform) -> tuple[str, ...] | None:
    """The characters without which transform `name` returns its input, or None if it has none."""
    return _TRIGGERS.get(name)


def transform_all(name: Transform) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """Transform `name` applied to every value of a field; the same tuple back when nothing changes."""
    fn = TRANSFORMS[name]
    if name == "lowercase":
        return lambda values: tuple(map(str.lower, values))
    triggers = _TRIGGERS.get(name)
    if triggers is None:
        return lambda values: tuple([fn(value) for value in values])

    def apply(values: tuple[str, ...]) -> tuple[str, ...]:
        if not values:
            return values
        # "\n" is no trigger, so the join only ever adds false alarms, which fall back to the transform.
        text = values[0] if len(values) == 1 else "\n".join(values)
        for trigger in triggers:
            if trigger in text:
                return tuple([fn(value) for value in values])
        return values

    return apply


def chain(names: Sequence[Transform]) -> TransformFn:
    """One function applying `names` in order (compiled once per distinct list)."""
    fns = tuple(TRANSFORMS[name] for name in names)
    if not fns:
        return _identity
    if len(fns) == 1:
        return fns[0]

    def apply(value: str) -> str:
        for fn in fns:
            value = fn(value)
        return value

    return apply


def _identity(value: str) -> str:
    return value
