# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""SQL injection detection by token fingerprints, in the spirit of libinjection.

A value is tokenised as SQL three times: as it is (a number or name context, `WHERE id=VALUE`), and as if
it sat inside a single- or a double-quoted literal (`WHERE name='VALUE'`), each only when the value holds
that quote and could close it. Each run yields a fingerprint, one letter per token type:

    s string   1 number   n name   v @variable   f known function followed by `(`
    k keyword  E statement (select, drop, ...)   U union   B order/group by   T waitfor/xp_cmdshell
    & and/or/xor/||/&&   o other operator   c comment   X MySQL executable comment `/*!`
    ( ) , ; .  themselves

Injection means the value, placed in that context, *starts* a known-bad shape: `' or 1=1--` is `s&1o1c`,
`1 union select` is `1UE`, `admin'--` is `sc`. Words alone never decide; structure does, which is why
`O'Reilly` (`sn`) or "select a size" (`Enn`) pass. `high` sensitivity adds shapes that are rarer in
benign text but also rarer as attacks (a bare function call, a full `select ... from`).
"""

from __future__ import annotations

import re
from typing import Final

from originguard.waf.regex import prefix_pattern
from originguard.waf.sqli_lexicon import FOLD, FUNCTIONS, WORDS

# Each alternative starts with a distinct class of characters and nests no backtracking quantifiers, so
# the scan is linear in the input even on hostile values. A quoted string's runs are possessive (`++`,
# `*+`): one step per run instead of one per character (1.3 -> 0.4 µs on a 20-character string).
_TOKEN: Final = re.compile(
    r"""
    (?P<ws>[\s\x00-\x1f\xa0]+)
  | (?P<xc>/\*!)
  | (?P<cmt>--(?:[\s\x00-\x1f]|\Z)[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<str>'(?:[^'\\]++|\\.|'')*+'?|"(?:[^"\\]++|\\.|"")*+"?|`[^`]*+`?)
  | (?P<num>0x[0-9a-f]+|0b[01]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)
  | (?P<var>@@?[\w.$]*)
  | (?P<word>[a-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*(?:\.[a-z_][\w$]*)?)
  | (?P<op2><=>|<>|!=|<=|>=|\|\||&&|::|:=|<<|>>)
  | (?P<punct>[(),;.])
  | (?P<op>.)
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)

_MAX_TOKENS: Final = 10
_FOLD_FIRSTS: Final = frozenset(first for first, _ in FOLD)

_LOW: Final = (
    r"^s\)*[&;c]",  # ' or ..., '; drop ..., admin'--
    r"^s\)*U\(*E",  # ' union select
    r"^sos\)*$|^so\(*[Ef]",  # x'='x, '||(select ...), '+char(65)
    r"^s\)*B1",  # ' order by 1
    r"^[1n]\)*&\(*(?:1o\(*1|[s1n]o\(*s|f\(|v|E|[1]$|[1]c)",  # 1 or 1=1, 1 and sleep(5), 1 or true
    r"^1\)*U\(*E|^n\)*U\(*E",  # 1 union select
    r"^[1n]\)*;\(*[EkT]",  # 1; drop table, 1;waitfor delay
    r"^1\)*B1",  # 1 order by 5
    r"X",  # /*!50000union*/ only ever appears to smuggle SQL past filters
    r"^[1s]T",  # 1 waitfor delay
)
_HIGH: Final = (
    *_LOW,
    r"^f\(",  # a bare function call in a numeric context: if(1=1,sleep(5),0)
    r"^s\)*k",  # ' into outfile, ') from
    r"^E[^;]{0,6}k",  # select ... from as a whole value
    r"^[1n]o\(*[s1n]\)*&",  # 1=1 or
    r"^s\)*o\(*[1nv]",  # '-1, '*@@version
)


# Every bad shape above needs one of these in the value: a quote (an `s` token or a quoted context), `;`,
# `/*!` (X), `&&`/`||` or the word and/or/xor (&), union/intersect/except (U), order/group by (B),
# waitfor/xp_cmdshell/sp_* (T); `high` adds `(` (f) and the statement words (E). Tokenising costs
# 3-20 µs a value and this one search ~0.3 µs, and most benign values have none.
#
# Words count only as whole tokens: `or` in "world" or "for" is no `&`, and sending such text to the
# tokeniser was the commonest false alarm (search text, JSON prose). A word token cannot follow an ASCII
# letter, `_` or a non-ASCII character that is neither a space nor a digit (the longer word would
# swallow it), except after a hex number's last digit (`0xfor`), which `0x` itself flags; and a word
# character, `$` or non-ASCII character after it would belong to it. The search runs on the lower-cased
# value: a token lower-cases to an ASCII keyword only if its own letters are that keyword's, and no
# keyword needs `k`, the one letter a non-ASCII character (KELVIN SIGN) lower-cases to.
_SYMBOLS: Final = ("'", '"', "`", ";", "/*!", "&&", "||", "0x")
_SWALLOWS: Final = r"[^\x00-\x5e\x60\x7b-\x7f\s\d]"  # a-z, `_`, non-ASCII but not a space or digit
_WORD_END: Final = r"(?![\w$\x80-\U0010ffff])"


def _suspect(letters: str, symbols: tuple[str, ...]) -> re.Pattern[str]:
    words = {word for word, letter in WORDS.items() if letter in letters}
    words |= {first for (first, _), letter in FOLD.items() if letter in letters}
    by_head: dict[str, list[str]] = {}
    for word in sorted(words, key=lambda w: (-len(w), w)):
        by_head.setdefault(word[0], []).append(word)
    # Every alternative starts with a literal, so that sre skips to candidate characters, and a word's
    # edges are tested only once its letters matched: ~0.4 µs on a URL-sized value.
    alternatives = [re.escape(symbol) for symbol in sorted(symbols)]
    for head, group in sorted(by_head.items()):
        rests = "|".join(f"{re.escape(word[1:])}(?<!{_SWALLOWS}{re.escape(word)})" for word in group)
        alternatives.append(f"{re.escape(head)}(?:{rests}){_WORD_END}")
    return re.compile("|".join(alternatives))


_LOW_SUSPECT: Final = _suspect("&UTB", _SYMBOLS)
_HIGH_SUSPECT: Final = _suspect("&UTBE", (*_SYMBOLS, "("))


def suspect_pattern(*, high: bool) -> re.Pattern[str]:
    """A search that fails on the lower-cased value (or values joined by newlines) only if none is SQLi."""
    return _HIGH_SUSPECT if high else _LOW_SUSPECT


class _Shapes:
    """The bad shapes, and what a fingerprint's beginning can still grow into (memoised)."""

    def __init__(self, shapes: tuple[str, ...]) -> None:
        self.search = re.compile("|".join(f"(?:{p})" for p in shapes)).search
        # `X` is the one shape not anchored at the start; the tokeniser stops early only without `/*!`.
        assert [p for p in shapes if not p.startswith("^")] == ["X"]
        prefixes = "|".join(prefix_pattern(p) for p in shapes if p.startswith("^"))
        self._prefix = re.compile(prefixes).fullmatch
        self.known: dict[str, int] = {}

    def outlook(self, start: str) -> int:
        """For a fingerprint beginning with `start` (and no `X`): DEAD, OPEN or MATCHED."""
        if len(self.known) > _KNOWN_LIMIT:
            self.known.clear()  # bounded: a flood of odd values must not grow it
        found = MATCHED if self.search(start) else OPEN if self._prefix(start) else DEAD
        self.known[start] = found
        return found


DEAD: Final = 0  # no extension is a bad shape: stop tokenising
OPEN: Final = 1  # some extension may be
MATCHED: Final = 2  # a shape matches it now: stop watching (the fingerprint is still read whole)
_KNOWN_LIMIT: Final = 4096
_LOW_SHAPES: Final = _Shapes(_LOW)
_HIGH_SHAPES: Final = _Shapes(_HIGH)


def is_bad_shape(fingerprint: str, *, high: bool = False) -> bool:
    """Whether a fingerprint (`sql_fingerprint`) is one of the injection shapes."""
    return (_HIGH_SHAPES if high else _LOW_SHAPES).search(fingerprint) is not None


def detect_sqli(value: str, *, high: bool = False) -> str | None:
    """The bad fingerprint (with its context) if `value` is SQL injection, else None."""
    if value.isalnum() or not value:
        return None  # one word or number cannot change the shape of a query
    if (_HIGH_SUSPECT if high else _LOW_SUSPECT).search(value.lower()) is None:
        return None
    return fingerprint_verdict(value, high=high)


def fingerprint_verdict(value: str, *, high: bool = False) -> str | None:
    """`detect_sqli` without its quick pre-check: tokenise in every context (tests compare the two)."""
    if value.isalnum() or not value:
        return None
    shapes = _HIGH_SHAPES if high else _LOW_SHAPES
    # A run whose first tokens no bad shape starts with stops there (`O'Reilly gift` as a quoted
    # literal is `sn...`, dead after two tokens): 11 µs -> 3 µs measured on that value.
    watch = shapes if "/*!" not in value else None
    for context in ("", "'", '"'):
        if context and context not in value:
            continue
        fingerprint = _fingerprint(value, context, watch)
        if shapes.search(fingerprint):
            return f"{context or 'as-is'}:{fingerprint}"
    return None


def sql_fingerprint(value: str, context: str = "") -> str:
    """Token-type letters of the first tokens of `value` read in `context` ('', "'" or '"')."""
    return _fingerprint(value, context, None)


def _fingerprint(value: str, context: str, watch: _Shapes | None) -> str:
    """`sql_fingerprint`; with `watch`, "" as soon as no bad shape can start as it does."""
    types: list[str] = []
    start = 0
    if context:
        end = value.find(context)
        types.append("s")  # the application's own literal, closed by the first quote in the value
        start = end + 1
    # Letters before `settled` can no longer change and, as they will read in the fingerprint (comments
    # dropped, `u` as `o`), make `fixed`. Only the last letter may still change: a sign `u` joins the
    # value after it, and a word like `union` folds with the next (`union all`).
    settled, fixed = 0, ""
    previous_word = ""
    for token in _TOKEN.finditer(value, start):
        kind = token.lastgroup
        if kind == "ws":
            continue
        if kind == "word":
            word = token.group().lower()
            if previous_word in _FOLD_FIRSTS:
                folded = FOLD.get((previous_word, word))
                if folded is not None:
                    types[-1] = folded
                    previous_word = ""
                    continue
            previous_word = word
            letter = WORDS.get(word, "n")
            if word in FUNCTIONS and value[token.end() : token.end() + 1] == "(":
                letter = "f"
        else:
            previous_word = ""
            letter = _KIND_LETTERS.get(kind or "") or _letter(kind, token.group())
            if letter == "u" and types and types[-1] in "1nvs)":
                letter = "o"  # after a value it is binary: 1-1
        if types and types[-1] == "u" and letter in "1nvfs":
            types.pop()  # a sign before a value (-1, !x) is part of the value
        types.append(letter)
        if len(types) > _MAX_TOKENS:
            break
        if watch is None:
            continue
        end = len(types) if letter != "u" and previous_word not in _FOLD_FIRSTS else len(types) - 1
        if settled == end:
            continue
        while settled < end:
            done = types[settled]
            settled += 1
            if done != "c":
                fixed += "o" if done == "u" else done
        try:
            outlook = watch.known[fixed]
        except KeyError:
            outlook = watch.outlook(fixed)
        if outlook == DEAD:
            return ""  # what it would grow into matches no shape, and neither does ""
        if outlook == MATCHED:
            watch = None  # most likely bad: read the rest for the fingerprint, without more tests
    # A comment in the middle is only whitespace to SQL; one at the end cuts off the rest of the query.
    if "c" in types[:-1]:
        types = [t for t in types[:-1] if t != "c"] + types[-1:]
    joined = "".join(types)
    return joined.replace("u", "o") if "u" in joined else joined


_KIND_LETTERS: Final = {"str": "s", "num": "1", "var": "v", "cmt": "c", "xc": "X"}


def _letter(kind: str | None, text: str) -> str:
    found = _KIND_LETTERS.get(kind or "")
    if found is not None:
        return found
    if kind == "punct":
        return text
    if kind == "op2":
        return "&" if text in ("||", "&&") else "o"
    if text in "-+!~":
        return "u"  # maybe unary; decided when the next token arrives
    return "o"
