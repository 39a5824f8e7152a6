# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""SecLang operators (`@rx`, `@pm`, `@detectSQLi`, ...) with ModSecurity 3.0.15's results.

`build_operator(name, param, negated=..., data_dirs=...)` returns an object whose
`match(value, captures)` says whether the rule matches `value` (negation applied) and, when
`captures` is a list, fills it with TX.0-TX.9 (None for a group that took no part). Operators are
built once per rule at load; a parameter holding `%{...}` is expanded by the engine and built per
evaluation, so builds are cached by (name, parameter).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final

import re2

from originguard.errors import SecLangError
from originguard.waf.seclang.injection import is_xss, sqli_fingerprint
from originguard.waf.seclang.memo import Memo
from originguard.waf.seclang.numbers import atoll, stoi
from originguard.waf.seclang.regex import compile_rx
from originguard.waf.seclang.utf8 import invalid_utf8

Captures = list[bytes | None] | None

_LATIN1: Final = re2.Options()
_LATIN1.encoding = re2.Options.Encoding.LATIN1
_LATIN1.log_errors = False


class Operator:
    """A compiled operator: `test(value, captures)` is the positive result; `match` negates."""

    __slots__ = ("name", "negated", "param")

    def __init__(self, name: str, param: str, negated: bool) -> None:
        self.name = name
        self.param = param
        self.negated = negated

    def test(self, value: bytes, captures: Captures) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def match(self, value: bytes, captures: Captures) -> bool:
        if self.negated:
            return not self.test(value, None)
        return self.test(value, captures)


class Rx(Operator):
    __slots__ = ("pattern",)

    def __init__(self, name: str, param: str, negated: bool) -> None:
        super().__init__(name, param, negated)
        self.pattern = compile_rx(param)

    def test(self, value: bytes, captures: Captures) -> bool:
        if captures is None:
            return self.pattern.matches(value)
        # Capturing goes through the `re2` wrapper's match objects (~3 µs); CRS captures on every
        # header name (920450), the same names on every request, so the groups are remembered.
        key = (self.pattern.text, value)
        groups = _CAPTURED.get(key) if len(value) <= _REMEMBERED_VALUE else None
        if groups is None:
            found = self.pattern.captures(value)
            groups = tuple(found) if found is not None else ()
            if len(value) <= _REMEMBERED_VALUE:
                _CAPTURED.put(key, groups, len(value))
        if not groups:
            return False
        captures.extend(groups)
        return True


_CAPTURED: Final[Memo[tuple[bytes, bytes], tuple[bytes | None, ...]]] = Memo()  # () for no match


class PhraseMatch(Operator):
    """`@pm` / `@pmFromFile`: any phrase, case-insensitive (ModSecurity's Aho-Corasick).

    One RE2 alternation of the phrases as literals: RE2 turns it into a DFA that reads each byte
    once, whatever the number of phrases."""

    __slots__ = ("regex",)

    def __init__(self, name: str, param: str, negated: bool, phrases: Sequence[bytes]) -> None:
        super().__init__(name, param, negated)
        literals = [literal_pattern(p) for p in phrases if p]
        self.regex = re2.compile(b"(?i)(?:" + b"|".join(literals) + b")", _LATIN1) if literals else None

    def test(self, value: bytes, captures: Captures) -> bool:
        if self.regex is None:
            return False
        found = self.regex.search(value)
        if found is None:
            return False
        if captures is not None:
            captures.append(found.group(0))
        return True


def literal_pattern(phrase: bytes) -> bytes:
    """`phrase` as a regex matching exactly its bytes (each one escaped as `\\xHH`)."""
    return b"".join(b"\\x%02x" % c for c in phrase)


class Compare(Operator):
    """String comparisons; the parameter is taken as its UTF-8 bytes."""

    __slots__ = ("check", "operand")

    def __init__(self, name: str, param: str, negated: bool, check: Callable[[bytes, bytes], bool]) -> None:
        super().__init__(name, param, negated)
        self.operand = param.encode("utf-8", "surrogateescape")
        self.check = check

    def test(self, value: bytes, captures: Captures) -> bool:
        matched = self.check(value, self.operand)
        if matched and captures is not None and self.name == "@contains":
            captures.append(self.operand)  # ModSecurity 3 captures the parameter of @contains only
        return matched


def _within(value: bytes, operand: bytes) -> bool:
    return not value or value in operand  # ModSecurity 3: an empty value is within anything


def _contains_word(value: bytes, operand: bytes) -> bool:
    at = value.find(operand)
    while at >= 0:
        before = at == 0 or not _word(value[at - 1])
        end = at + len(operand)
        if before and (end == len(value) or not _word(value[end])):
            return True
        at = value.find(operand, at + 1)
    return not operand


def _word(c: int) -> bool:
    return c == 0x5F or 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


_COMPARISONS: Final[dict[str, Callable[[bytes, bytes], bool]]] = {
    "@streq": lambda v, p: v == p,
    "@contains": lambda v, p: p in v,
    "@containsword": _contains_word,
    "@beginswith": lambda v, p: v.startswith(p),
    "@endswith": lambda v, p: v.endswith(p),
    "@within": _within,
}


class Numeric(Operator):
    """`@eq` reads both sides with std::stoi (0 on error), the others with atoll, as 3.0.15."""

    __slots__ = ("check", "operand")

    def __init__(self, name: str, param: str, negated: bool) -> None:
        super().__init__(name, param, negated)
        raw = param.encode("utf-8", "surrogateescape")
        self.operand = stoi(raw) if name == "@eq" else atoll(raw)
        self.check = _NUMERIC[name]

    def test(self, value: bytes, captures: Captures) -> bool:
        number = stoi(value) if self.name == "@eq" else atoll(value)
        return self.check(number, self.operand)


_NUMERIC: Final[dict[str, Callable[[int, int], bool]]] = {
    "@eq": lambda a, b: a == b,
    "@ge": lambda a, b: a >= b,
    "@gt": lambda a, b: a > b,
    "@le": lambda a, b: a <= b,
    "@lt": lambda a, b: a < b,
}


class IpMatch(Operator):
    __slots__ = ("networks",)

    def __init__(self, name: str, param: str, negated: bool, entries: Sequence[str]) -> None:
        super().__init__(name, param, negated)
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise SecLangError("", 0, "", f"{entry!r} is not an IP address or network") from None
        self.networks = tuple(networks)

    def test(self, value: bytes, captures: Captures) -> bool:
        try:
            address = ipaddress.ip_address(value.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            return False
        return any(address in network for network in self.networks if network.version == address.version)


class Check(Operator):
    """Operators that are a function of the value alone.

    With `remember`, results (and captures) of values up to 4 KiB are kept, bounded: libinjection
    through ctypes costs ~1.5 µs a value and CRS asks it about the same headers on every request."""

    __slots__ = ("function", "memo")

    def __init__(
        self,
        name: str,
        param: str,
        negated: bool,
        function: Callable[[bytes, Captures], bool],
        *,
        remember: bool = False,
    ) -> None:
        super().__init__(name, param, negated)
        self.function = function
        self.memo: Memo[bytes, tuple[bool, tuple[bytes | None, ...]]] | None = (
            Memo(_REMEMBERED_BYTES) if remember else None
        )

    def test(self, value: bytes, captures: Captures) -> bool:
        memo = self.memo
        if memo is None:
            return self.function(value, captures)
        hit = memo.get(value)
        if hit is None:
            found: list[bytes | None] = []
            hit = (self.function(value, found), tuple(found))
            if len(value) <= _REMEMBERED_VALUE:
                memo.put(value, hit, len(value))
        if hit[0] and captures is not None:
            captures.extend(hit[1])
        return hit[0]


_REMEMBERED_VALUE: Final = 4096
_REMEMBERED_BYTES: Final = 1 << 20  # per operator


def _detect_sqli(value: bytes, captures: Captures) -> bool:
    fingerprint = sqli_fingerprint(value)
    if fingerprint is not None and captures is not None:
        captures.append(fingerprint)
    return fingerprint is not None


def _detect_xss(value: bytes, captures: Captures) -> bool:
    return is_xss(value)


def _invalid_url_encoding(value: bytes, captures: Captures) -> bool:
    i, n = 0, len(value)
    while i < n:
        if value[i] == 0x25:
            if i + 2 >= n:
                return True
            if value[i + 1] not in _HEX or value[i + 2] not in _HEX:
                return True
            i += 3
        else:
            i += 1
    return False


_HEX: Final = frozenset(b"0123456789abcdefABCDEF")


def _byte_range(param: str) -> frozenset[int]:
    allowed: set[int] = set()
    for part in param.replace(",", " ").split():
        lo, dash, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi if dash else lo)
        except ValueError:
            raise SecLangError("", 0, "", f"{part!r} is not a byte or a byte range") from None
        if not 0 <= first <= last <= 255:
            raise SecLangError("", 0, "", f"{part!r} is not within 0-255")
        allowed.update(range(first, last + 1))
    return frozenset(allowed)


def pm_phrases(param: str) -> list[bytes]:
    """`@pm` phrases: whitespace-separated, `|hh hh|` blocks as bytes (ModSecurity's parse_pm_content)."""
    raw = param.encode("utf-8", "surrogateescape")
    if raw[:1] == b'"' and raw[-1:] == b'"' and len(raw) > 1:
        raw = raw[1:-1]
    out = bytearray()
    in_hex = False
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x7C:
            in_hex = not in_hex
            i += 1
        elif in_hex:
            if c in b" \t":
                i += 1
            elif i + 1 < n and raw[i] in _HEX and raw[i + 1] in _HEX:
                out.append(int(raw[i : i + 2], 16))
                i += 2
            else:
                raise SecLangError("", 0, "", "invalid hex block in a phrase list")
        else:
            out.append(c)
            i += 1
    return bytes(out).split()


def file_phrases(param: str, data_dirs: Sequence[Path]) -> list[bytes]:
    lines: list[bytes] = []
    for name in param.split():
        if "://" in name:
            raise SecLangError("", 0, "", f"{name}: phrase files from URLs are not supported")
        path = _find(name, data_dirs)
        for line in path.read_bytes().splitlines():
            line = line.rstrip(b"\r")
            if line and not line.startswith(b"#"):
                lines.append(line)
    return lines


def _find(name: str, data_dirs: Sequence[Path]) -> Path:
    candidate = Path(name)
    if candidate.is_absolute():
        if candidate.is_file():
            return candidate
    else:
        for directory in data_dirs:
            if (Path(directory) / name).is_file():
                return Path(directory) / name
    raise SecLangError("", 0, "", f"data file {name} not found")


def _never(value: bytes, captures: Captures) -> bool:
    return False


def _always(value: bytes, captures: Captures) -> bool:
    return True


_REMEMBERED: Final = frozenset({"@detectsqli", "@detectxss", "@validateutf8encoding"})


@lru_cache(maxsize=4096)
def _build(name: str, param: str, negated: bool, data_dirs: tuple[Path, ...]) -> Operator:
    key = name.lower()
    if key == "@rx":
        return Rx(name, param, negated)
    if key == "@pm":
        return PhraseMatch(name, param, negated, pm_phrases(param))
    if key in ("@pmfromfile", "@pmf"):
        return PhraseMatch(name, param, negated, file_phrases(param, data_dirs))
    if key in _COMPARISONS:
        return Compare(key, param, negated, _COMPARISONS[key])
    if key in _NUMERIC:
        return Numeric(key, param, negated)
    if key == "@ipmatch":
        return IpMatch(name, param, negated, param.split(","))
    if key in ("@ipmatchfromfile", "@ipmatchf"):
        entries = [line.decode("ascii", "replace") for line in file_phrases(param, data_dirs)]
        return IpMatch(name, param, negated, entries)
    if key == "@validatebyterange":
        allowed = bytes(sorted(_byte_range(param)))
        # what is left once every allowed byte is deleted: empty unless a byte is out of range
        return Check(name, param, negated, lambda v, c: bool(v.translate(None, allowed)))
    checks: dict[str, Callable[[bytes, Captures], bool]] = {
        "@detectsqli": _detect_sqli,
        "@detectxss": _detect_xss,
        "@validateurlencoding": _invalid_url_encoding,
        "@validateutf8encoding": lambda v, c: invalid_utf8(v),
        "@unconditionalmatch": _always,
        "@nomatch": _never,
        # No lookups from the sans-IO engine: without a database or resolver ModSecurity's
        # @geoLookup and @rbl do not match either (CRS 3.3's IP reputation rules only).
        "@geolookup": _never,
        "@rbl": _never,
    }
    if key in checks:
        return Check(name, param, negated, checks[key], remember=key in _REMEMBERED)
    raise SecLangError("", 0, "", f"operator {name} is not supported")


def build_operator(name: str, param: str, *, negated: bool, data_dirs: Sequence[Path]) -> Operator:
    """The compiled operator `name` with `param`; SecLangError when it cannot be built."""
    return _build(name, param, negated, tuple(Path(d) for d in data_dirs))
