# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Load-balancer wildcard patterns (`*` = any run, `?` = one character), compiled once (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

Matcher = Callable[[str], bool]


def compile_wildcard(pattern: str, *, case_sensitive: bool, escapes: bool = False) -> Matcher:
    """A matcher for one value; literal patterns compare directly (no regex on the hot path)."""
    has_wildcard = any(c in pattern for c in "*?")
    if not has_wildcard and not (escapes and "\\" in pattern):
        if case_sensitive:
            return pattern.__eq__
        folded = pattern.casefold()
        return lambda value: value.casefold() == folded
    plain_prefix, plain_suffix = pattern[:-1], pattern[1:]
    if case_sensitive and not (escapes and "\\" in pattern):
        # `/api/*`, `*.jpg` and `*` are most behaviour and rule patterns: no regex for them.
        if pattern == "*":
            return lambda value: True
        if pattern.endswith("*") and not any(c in plain_prefix for c in "*?"):
            return lambda value: value.startswith(plain_prefix)
        if pattern.startswith("*") and not any(c in plain_suffix for c in "*?"):
            return lambda value: value.endswith(plain_suffix)
    regex = _to_regex(pattern, escapes=escapes)
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    compiled = re.compile(regex, flags)
    return lambda value: compiled.fullmatch(value) is not None


def compile_any(patterns: list[str], *, case_sensitive: bool, escapes: bool = False) -> Matcher:
    """OR over several patterns (values within one condition are ORed)."""
    matchers = [compile_wildcard(p, case_sensitive=case_sensitive, escapes=escapes) for p in patterns]
    if len(matchers) == 1:
        return matchers[0]
    return lambda value: any(m(value) for m in matchers)


def _to_regex(pattern: str, *, escapes: bool) -> str:
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if escapes and char == "\\":
            out.append(re.escape(next(chars, "\\")))  # ALB query-string: `\*` is a literal star
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)
