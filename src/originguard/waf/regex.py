# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""RE2 searches with a literal prefilter, for regex_match statements.

A call into google-re2 costs ~1-2 µs whatever the input (measured: 2.1 µs through `search`, 0.9 µs
through the compiled program's `Match`), which is most of a rule. Like RE2's own prefilter, we compute
at compile time a set of literals one of which every match must contain (`^/wp-(?:admin|login)` needs
`/wp-`); a value without any of them cannot match, and a substring test costs ~50 ns. Matching itself
is always RE2's: linear time, no backtracking.

Literal sets are searched with one case-sensitive Python `re` shaped as a trie (`n(?:map|ikto)`), which
sre scans with a first-character set; with `IGNORECASE` the same search is ~25x slower (measured 18 µs
on a browser user-agent for the 24 bad-agent names), so `(?i)` literals are matched against the
ASCII-lower-cased value instead, and a non-ASCII value (whose case folding differs between Python and
RE2: `ſ`, `K`) always passes to RE2.
"""

from __future__ import annotations

import re as pylre
import re._constants as sre_constants  # type: ignore[import-not-found]  # no stubs; stable since 3.11
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Callable
from typing import Any, Final

import re2

Literals = frozenset[str]
_MAX_CLASS: Final = 8  # a small class like [;|&] still makes a useful set of one-char literals
_FLAG_I: Final = pylre.compile(r"\(\?[A-Za-z-]*i")
_REPEATS: Final = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def compile_search(pattern: str) -> Callable[[str], bool]:
    """A predicate: does `pattern` (RE2 syntax) match anywhere in the value."""
    options = re2.Options()
    options.never_capture = True  # we only need yes/no; captures cost time
    program = re2.compile(pattern, options)
    raw = getattr(program, "_regexp", None)
    if raw is not None and hasattr(raw, "Match"):
        match, anchor, null = raw.Match, raw.Anchor.UNANCHORED, (-1, -1)

        def search(value: str) -> bool:
            data = value.encode("utf-8", "surrogatepass")
            return bool(match(anchor, data, 0, len(data))[0] != null)

    else:  # pragma: no cover - a future re2 without the private fast path

        def search(value: str) -> bool:
            return program.search(value) is not None

    required = required_literals(pattern)
    if not required:
        return search
    maybe = literal_search(required, folded=case_insensitive(pattern))
    if maybe is None:
        return search
    return lambda value: maybe(value) and search(value)


def case_insensitive(pattern: str) -> bool:
    """Whether the literals of `pattern` are lower-cased: any flag group naming `i` (`(?i)`, `(?si:`)."""
    return _FLAG_I.search(pattern) is not None


def literal_search(literals: Literals, *, folded: bool) -> Callable[[str], bool] | None:
    """A fast test "does the value contain one of `literals`", or None when no sound test exists.

    `folded` literals are lower-case and compare case-insensitively; they must be ASCII, since only for
    ASCII do `str.lower` and RE2's case folding agree.
    """
    if not literals or (folded and not all(lit.isascii() for lit in literals)):
        return None
    if len(literals) == 1:
        needle = next(iter(literals))
        if folded:
            return lambda value: not value.isascii() or needle in value.lower()
        return lambda value: needle in value
    any_needle = pylre.compile(trie_pattern(literals)).search
    if folded:
        return lambda value: not value.isascii() or any_needle(value.lower()) is not None
    return lambda value: any_needle(value) is not None


def trie_pattern(literals: Literals) -> str:
    """A Python regex matching any of `literals`, with common prefixes factored out."""
    branches = trie_alternatives(literals)
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def trie_alternatives(literals: Literals) -> list[str]:
    """`trie_pattern`'s alternatives, one per first character, for joining into a larger alternation.

    sre skips to candidate positions only when every top-level alternative starts with a literal
    character (measured 3-4x faster than the same alternatives inside a group).
    """
    root: dict[str, Any] = {}
    for literal in literals:
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a literal
    if "" in root:
        return [""]  # the empty literal: every text contains it
    return [pylre.escape(char) + _trie_regex(child) for char, child in sorted(root.items())]


def _trie_regex(node: dict[str, Any]) -> str:
    ends = "" in node
    branches = [pylre.escape(char) + _trie_regex(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    # A literal ending here makes the rest optional, but "contains a literal" is then already true, so
    # the shortest literal is enough: `ab|abc` needs only `ab`.
    if ends:
        return ""
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def required_literals(pattern: str) -> Literals | None:
    """Literals one of which any match must contain (lower-cased if `(?i`), or None when unknown."""
    if "[:" in pattern or "\\p" in pattern or "\\P" in pattern or "\\Q" in pattern:
        return None  # RE2 syntax Python's parser reads differently: give no prefilter rather than a wrong one
    try:
        parsed = sre_parse.parse(pattern)
    except (re_error(), ValueError, OverflowError, RecursionError):
        return None
    found = _sequence(list(parsed))
    if not found or min(len(s) for s in found) == 0:
        return None
    return frozenset(s.lower() for s in found) if case_insensitive(pattern) else found


def re_error() -> type[Exception]:
    """The exception Python's regex parser raises."""
    return pylre.error


def _sequence(items: list[tuple[Any, Any]]) -> Literals | None:
    """Best requirement of a concatenation: literal runs and required sub-parts, most selective wins."""
    candidates: list[Literals] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, arg in items:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        repeated = _single_literal(arg[2]) if op in _REPEATS and arg[0] >= 1 else None
        if repeated is not None:
            # `\.\.+` needs "..", which is rarer than "." in a path; an open repeat ends the run.
            run.append(repeated * arg[0])
            if arg[1] != arg[0]:
                flush()
            continue
        flush()
        need = _element(op, arg)
        if need:
            candidates.append(need)
    flush()
    if not candidates:
        return None
    return max(candidates, key=lambda s: min(len(x) for x in s))


def _element(op: Any, arg: Any) -> Literals | None:
    if op is sre_constants.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is sre_constants.BRANCH:
        union: set[str] = set()
        for branch in arg[1]:
            need = _sequence(list(branch))
            if not need:
                return None  # one branch needs nothing, so the alternation needs nothing
            union |= need
        return frozenset(union)
    if op in _REPEATS:
        low, _high, body = arg
        return _sequence(list(body)) if low >= 1 else None
    if op is sre_constants.IN:
        chars = [chr(a) for o, a in arg if o is sre_constants.LITERAL]
        if len(chars) == len(arg) and 0 < len(chars) <= _MAX_CLASS:
            return frozenset(chars)
    return None


def _single_literal(body: Any) -> str | None:
    items = list(body)
    if len(items) == 1 and items[0][0] is sre_constants.LITERAL:
        return chr(items[0][1])
    return None


def prefix_pattern(pattern: str) -> str:
    """A regex whose `fullmatch` accepts every prefix of every string `pattern.match` accepts.

    So if no extension of `text` can match, `fullmatch(text)` fails: a tokeniser can stop early. Anchors
    are dropped, which only adds strings: the prefixes accepted are a superset, never fewer. Only
    literals, classes, groups, alternations and repeats are supported (the shapes of a fingerprint
    pattern); anything else raises ValueError.
    """
    return _prefix(list(sre_parse.parse(pattern)))


def _prefix(items: list[tuple[Any, Any]]) -> str:
    # A prefix of a concatenation is the first k items whole, then a prefix of item k.
    choices = [
        "".join(_whole(item) for item in items[:k]) + _prefix_item(items[k]) for k in range(len(items))
    ]
    return "(?:" + "|".join(choices) + ")" if choices else ""


def _prefix_item(item: tuple[Any, Any]) -> str:
    op, arg = item
    if op is sre_constants.AT:
        return ""
    if op is sre_constants.SUBPATTERN:
        return _prefix(list(arg[-1]))
    if op is sre_constants.BRANCH:
        return "(?:" + "|".join(_prefix(list(branch)) for branch in arg[1]) + ")"
    if op in _REPEATS:
        _low, high, body = arg
        if high == 0:
            return ""
        more = "*" if high == sre_constants.MAXREPEAT else f"{{0,{high - 1}}}"
        return f"(?:{_whole_sequence(list(body))}){more}{_prefix(list(body))}"
    return f"(?:{_whole(item)})?"


def _whole_sequence(items: list[tuple[Any, Any]]) -> str:
    return "".join(_whole(item) for item in items)


def _whole(item: tuple[Any, Any]) -> str:
    op, arg = item
    if op is sre_constants.LITERAL:
        return pylre.escape(chr(arg))
    if op is sre_constants.NOT_LITERAL:
        return f"[^{pylre.escape(chr(arg))}]"
    if op is sre_constants.IN:
        return "[" + "".join(_class_item(o, a) for o, a in arg) + "]"
    if op is sre_constants.AT:
        return ""
    if op is sre_constants.SUBPATTERN:
        return f"(?:{_whole_sequence(list(arg[-1]))})"
    if op is sre_constants.BRANCH:
        return "(?:" + "|".join(_whole_sequence(list(branch)) for branch in arg[1]) + ")"
    if op in _REPEATS:
        low, high, body = arg
        top = "" if high == sre_constants.MAXREPEAT else str(high)
        return f"(?:{_whole_sequence(list(body))}){{{low},{top}}}"
    raise ValueError(f"unsupported in a prefix pattern: {op}")


def _class_item(op: Any, arg: Any) -> str:
    if op is sre_constants.NEGATE:
        return "^"
    if op is sre_constants.LITERAL:
        return pylre.escape(chr(arg))
    if op is sre_constants.RANGE:
        return f"{pylre.escape(chr(arg[0]))}-{pylre.escape(chr(arg[1]))}"
    raise ValueError(f"unsupported in a prefix pattern's class: {op}")
