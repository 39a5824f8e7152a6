"""`@rx` patterns as ModSecurity 3 runs them (PCRE, DOTALL | MULTILINE, bytes), on RE2.

A pattern is the UTF-8 of the rule text matched byte by byte, as libmodsecurity does without
PCRE_UTF8: RE2 runs in Latin-1 mode over `bytes`, so every byte is one character. `(?sm)` is
ModSecurity 3's flags (and Coraza's). RE2 is linear in the input, so a value cannot make a rule
slow. What RE2 lacks:

- `\\s` lacks the vertical tab in RE2: it is spelled out as PCRE's class;
- possessive quantifiers (`*+`, `++`, `?+`) become greedy ones. Without backtracking they only
  differ when the quantified item overlaps what follows; in CRS 3.3's two uses it does not;
- look-around and back-references (three CRS 3.3 rules: 920120, 942130, 953100; CRS 4 has none)
  are not regular. Such a pattern runs on the `regex` package (a backtracking engine that, like
  PCRE, takes look-behinds of several widths, which `re` refuses) only after a relaxed RE2 form
  (look-arounds dropped, a back-reference replaced by its group) matched: benign values pay RE2's
  linear scan, and only a value that already looks like the attack reaches the backtracking engine.
"""

from __future__ import annotations

import re
from typing import Any, Final, Protocol

import re2
import regex

from originguard.errors import SecLangError

_OPTIONS: Final = re2.Options()
_OPTIONS.encoding = re2.Options.Encoding.LATIN1
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 64 << 20  # CRS's largest patterns need ~5 MiB of DFA; RE2's default is 8 MiB
_FLAGS: Final = b"(?sm)"


class Matcher(Protocol):
    def search(self, value: bytes) -> Any: ...  # pragma: no cover


class CompiledPattern:
    """A pattern ready to search: `search(value)` → the groups, or None."""

    __slots__ = ("_exact", "_guard", "group_count", "text")

    def __init__(self, text: bytes, guard: Matcher, exact: Matcher | None, group_count: int) -> None:
        self.text = text
        self._guard = guard
        self._exact = exact
        self.group_count = group_count

    def matches(self, value: bytes) -> bool:
        if self._guard.search(value) is None:
            return False
        return self._exact is None or self._exact.search(value) is not None

    def captures(self, value: bytes) -> list[bytes | None] | None:
        """Group 0 and up to nine groups (None: a group that took no part) of the first match."""
        matcher = self._exact if self._exact is not None else self._guard
        if self._exact is not None and self._guard.search(value) is None:
            return None
        found = matcher.search(value)
        if found is None:
            return None
        return [found.group(i) for i in range(min(self.group_count, 9) + 1)]


def compile_rx(pattern: str) -> CompiledPattern:
    """Compile an `@rx` parameter; SecLangError when neither RE2 nor the fallback can run it."""
    raw = pattern.encode("utf-8", "surrogateescape") if pattern else b".*"
    text = translate(raw)
    try:
        compiled = re2.compile(_FLAGS + text, _OPTIONS)
        return CompiledPattern(text, compiled, None, compiled.groups)
    except re2.error as exc:
        reason = str(exc)
    try:
        exact = regex.compile(_FLAGS + text, regex.VERSION0)
        guard = re2.compile(_FLAGS + relax(text), _OPTIONS)
    except (regex.error, re2.error):
        raise SecLangError("", 0, "", f"the pattern cannot run on RE2 ({reason})") from None
    return CompiledPattern(text, guard, exact, exact.groups)


_SPACE_CLASS: Final = b"\\t\\n\\x0b\\f\\r "  # PCRE's \\s has the vertical tab; RE2's does not
_NOT_SPACE_CLASS: Final = b"\\x00-\\x08\\x0e-\\x1f\\x21-\\xff"


def translate(text: bytes) -> bytes:
    """PCRE as CRS writes it → RE2 with the same matches.

    `\\s`/`\\S` spelled out with PCRE's vertical tab (CRS's 932200 chain reads a bare `\\s`), and
    possessive quantifiers (`*+`, `++`, `?+`, `}+`) made greedy (module docstring)."""
    if b"\\s" not in text and b"\\S" not in text and b"+" not in text:
        return text
    out = bytearray()
    i, n = 0, len(text)
    in_class = False
    while i < n:
        c = text[i]
        if c == 0x5C and i + 1 < n:
            escaped = text[i + 1]
            if escaped == 0x73:  # \s
                out += _SPACE_CLASS if in_class else b"[" + _SPACE_CLASS + b"]"
            elif escaped == 0x53:  # \S
                out += _NOT_SPACE_CLASS if in_class else b"[^" + _SPACE_CLASS + b"]"
            else:
                out += text[i : i + 2]
            i += 2
            continue
        if in_class:
            if c == 0x5D:
                in_class = False
        elif c == 0x5B:
            in_class = True
            out.append(c)
            i += 1
            if text[i : i + 1] == b"^":
                out.append(0x5E)
                i += 1
            if text[i : i + 1] == b"]":  # a `]` first in a class is a literal
                out.append(0x5D)
                i += 1
            continue
        elif c == 0x2B and out and out[-1] in b"*+?}" and not _escaped(out):
            i += 1
            continue
        out.append(c)
        i += 1
    return bytes(out)


def _escaped(out: bytearray) -> bool:
    """Whether the last byte of `out` is escaped (an odd run of backslashes before it)."""
    run = 0
    k = len(out) - 2
    while k >= 0 and out[k] == 0x5C:
        run += 1
        k -= 1
    return run % 2 == 1


_LOOKAROUND: Final = re.compile(rb"\(\?<?[=!]")
_BACKREF: Final = re.compile(rb"\\([1-9])")


def relax(text: bytes) -> bytes:
    """A superset RE2 can run: look-arounds removed, `\\N` replaced by group N's own pattern."""
    groups = _group_spans(text)
    out = text
    for match in reversed(list(_BACKREF.finditer(out))):
        number = int(match.group(1))
        if number <= len(groups):
            start, end = groups[number - 1]
            out = out[: match.start()] + b"(?:" + text[start:end] + b")" + out[match.end() :]
    while True:
        found = _LOOKAROUND.search(out)
        if found is None:
            return out
        end = _closing(out, found.start())
        out = out[: found.start()] + out[end + 1 :]


def _group_spans(text: bytes) -> list[tuple[int, int]]:
    """(start, end) of each capturing group's body, in group order."""
    spans: list[tuple[int, int]] = []
    stack: list[int | None] = []
    i, n = 0, len(text)
    in_class = False
    while i < n:
        c = text[i]
        if c == 0x5C:
            i += 2
            continue
        if in_class:
            in_class = c != 0x5D
        elif c == 0x5B:
            in_class = True
        elif c == 0x28:
            capturing = text[i + 1 : i + 2] != b"?"
            if capturing:
                spans.append((i + 1, -1))
                stack.append(len(spans) - 1)
            else:
                stack.append(None)
        elif c == 0x29 and stack:
            index = stack.pop()
            if index is not None:
                spans[index] = (spans[index][0], i)
        i += 1
    return spans


def _closing(text: bytes, start: int) -> int:
    """Index of the `)` closing the group opened at `start`."""
    depth = 0
    i, n = start, len(text)
    in_class = False
    while i < n:
        c = text[i]
        if c == 0x5C:
            i += 2
            continue
        if in_class:
            in_class = c != 0x5D
        elif c == 0x5B:
            in_class = True
        elif c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return n - 1
