"""Cache-Control (RFC 9111 §5.2) and targeted cache-control fields (RFC 9213) as plain data."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

MAX_DELTA: Final = 2147483648
"""RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31."""

_DELTAS: Final = frozenset(
    {"max-age", "s-maxage", "max-stale", "min-fresh", "stale-while-revalidate", "stale-if-error"}
)
_FLAGS: Final = {
    "no-store": "no_store",
    "no-cache": "no_cache",
    "private": "private",
    "public": "public",
    "must-revalidate": "must_revalidate",
    "proxy-revalidate": "proxy_revalidate",
    "must-understand": "must_understand",
    "no-transform": "no_transform",
    "immutable": "immutable",
    "only-if-cached": "only_if_cached",
}
# RFC 8941 §3.2 dictionary member: key, then "=" bare-item or inner list, then parameters.
_SF_KEY: Final = r"[a-z*][a-z0-9_\-.*]*"
_SF_ITEM: Final = (
    r"(?:-?\d{1,15}(?:\.\d{1,3})?"  # integer or decimal
    r'|"(?:[^"\\\x00-\x1f\x7f]|\\["\\])*"'  # string
    r"|[A-Za-z*][!#$%&'*+\-.^_`|~:/0-9A-Za-z]*"  # token
    r"|\?[01]|:[A-Za-z0-9+/=]*:)"  # boolean, byte sequence
)
_SF_PARAMS: Final = rf"(?:;[ ]*{_SF_KEY}(?:={_SF_ITEM})?)*"
_SF_INNER: Final = rf"\([ ]*(?:{_SF_ITEM}{_SF_PARAMS}(?:[ ]+{_SF_ITEM}{_SF_PARAMS})*)?[ ]*\)"
_SF_MEMBER: Final = re.compile(rf"({_SF_KEY})(?:=({_SF_ITEM}|{_SF_INNER}))?{_SF_PARAMS}")


@dataclass(frozen=True, slots=True)
class CacheControl:
    """Directives of one message; delta values are seconds, None when the directive is absent."""

    max_age: int | None = None
    s_maxage: int | None = None
    max_stale: int | None = None
    min_fresh: int | None = None
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None
    no_store: bool = False
    no_cache: bool = False
    private: bool = False
    public: bool = False
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    must_understand: bool = False
    no_transform: bool = False
    immutable: bool = False
    only_if_cached: bool = False
    extensions: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when no directive at all was given."""
        return self == NO_DIRECTIVES


NO_DIRECTIVES: Final = CacheControl()


def parse_cache_control(values: Iterable[bytes]) -> CacheControl:
    """Directives from the field line values of one Cache-Control field (RFC 9111 §5.2)."""
    pairs: list[tuple[str, str | None]] = []
    for value in values:
        for item in _split_list(value.decode("latin-1")):
            name, eq, arg = item.partition("=")
            name = name.strip().lower()
            if name:
                pairs.append((name, _unquote(arg.strip()) if eq else None))
    return _build(pairs, lenient_numbers=True)


def parse_targeted(value: bytes) -> CacheControl | None:
    """Directives of a targeted field (RFC 9213 §2.2); None when empty or not a valid sf-dictionary."""
    text = value.decode("latin-1").strip(" \t")
    pairs: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(text):
        match = _SF_MEMBER.match(text, pos)
        if match is None:
            return None
        raw = match.group(2)
        # A bare key is the boolean true; "?0" switches the directive off (RFC 8941 §3.2).
        if raw != "?0":
            # Kept raw: an sf-string "60" is not the Integer max-age needs (RFC 9213 §2.2).
            pairs.append((match.group(1), None if raw in (None, "?1") else raw))
        pos = match.end()
        rest = text[pos:].lstrip(" \t")
        if not rest:
            break
        if rest[0] != ",":
            return None
        pos = len(text) - len(rest[1:].lstrip(" \t"))
        if pos == len(text):  # trailing comma
            return None
    if not pairs:
        return None
    return _build(pairs, lenient_numbers=False)


def _build(pairs: list[tuple[str, str | None]], *, lenient_numbers: bool) -> CacheControl:
    """Fold (name, argument) pairs into a CacheControl."""
    deltas: dict[str, int] = {}
    flags: dict[str, Any] = {}
    extensions: list[str] = []
    for name, arg in pairs:
        if name in _DELTAS:
            seconds = _delta(arg, name, lenient_numbers)
            if seconds is None:
                continue
            # RFC 9111 §4.2.1: conflicting duplicates make the response stale rather than fresh.
            previous = deltas.get(name)
            deltas[name] = seconds if previous is None or previous == seconds else 0
        elif name in _FLAGS:
            # Qualified no-cache="field" / private="field" count as the unqualified form: never wrong,
            # since not storing / always revalidating is always allowed (RFC 9111 §5.2.2.4, §5.2.2.7).
            flags[_FLAGS[name]] = True
        else:
            extensions.append(name)
    for name, seconds in deltas.items():
        flags[name.replace("-", "_")] = seconds
    return CacheControl(**flags, extensions=tuple(extensions))


def _delta(arg: str | None, name: str, lenient: bool) -> int | None:
    """Seconds of a delta-seconds argument; 0 when invalid (stale), None to ignore the directive."""
    if arg is None:
        # "max-stale" alone accepts any staleness (RFC 9111 §5.2.1.2); elsewhere a value is required.
        return MAX_DELTA if name == "max-stale" else (0 if lenient else None)
    if arg.isascii() and arg.isdigit():
        return min(int(arg), MAX_DELTA)
    # Cache-Control: an invalid value makes the response stale; RFC 9213 fields ignore the directive.
    return 0 if lenient else None


def _split_list(text: str) -> list[str]:
    """Comma-separated members, keeping commas inside quoted strings (RFC 9110 §5.6.1)."""
    if '"' not in text:
        return [part.strip() for part in text.split(",") if part.strip()]
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _unquote(arg: str) -> str:
    """The content of a quoted-string (RFC 9110 §5.6.4); tokens come back unchanged."""
    if len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"':
        return re.sub(r"\\(.)", r"\1", arg[1:-1])
    return arg
