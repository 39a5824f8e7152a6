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

from originguard.waf.regex import trie_pattern

# Each alternative starts with a distinct class of characters and never nests quantifiers, so the
# scan is linear in the input even on hostile values.
_TOKEN: Final = re.compile(
    r"""
    (?P<ws>[\s\x00-\x1f\xa0]+)
  | (?P<xc>/\*!)
  | (?P<cmt>--(?:[\s\x00-\x1f]|\Z)[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<str>'(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.|"")*"?|`[^`]*`?)
  | (?P<num>0x[0-9a-f]+|0b[01]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)
  | (?P<var>@@?[\w.$]*)
  | (?P<word>[a-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*(?:\.[a-z_][\w$]*)?)
  | (?P<op2><=>|<>|!=|<=|>=|\|\||&&|::|:=|<<|>>)
  | (?P<punct>[(),;.])
  | (?P<op>.)
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)

_WORDS: Final[dict[str, str]] = {
    **dict.fromkeys(
        [
            "select",
            "insert",
            "update",
            "delete",
            "drop",
            "create",
            "alter",
            "exec",
            "execute",
            "truncate",
            "declare",
        ],
        "E",
    ),
    **dict.fromkeys(["shutdown"], "E"),
    **dict.fromkeys(["union", "intersect", "except"], "U"),
    **dict.fromkeys(["and", "or", "xor"], "&"),
    **dict.fromkeys(
        [
            "like",
            "rlike",
            "regexp",
            "between",
            "in",
            "is",
            "not",
            "div",
            "mod",
            "sounds",
            "collate",
            "escape",
        ],
        "o",
    ),
    **dict.fromkeys(
        ["from", "where", "table", "into", "values", "outfile", "dumpfile", "having", "limit", "offset"], "k"
    ),
    **dict.fromkeys(["case", "when", "then", "else", "end", "as", "procedure"], "k"),
    **dict.fromkeys(["null", "true", "false"], "1"),
    **dict.fromkeys(["waitfor", "xp_cmdshell", "sp_executesql", "sp_oacreate"], "T"),
}
_FUNCTIONS: Final = frozenset(
    [
        "sleep",
        "benchmark",
        "pg_sleep",
        "char",
        "chr",
        "concat",
        "concat_ws",
        "ascii",
        "ord",
        "substring",
        "substr",
        "mid",
        "version",
        "user",
        "current_user",
        "system_user",
        "session_user",
        "database",
        "schema",
        "extractvalue",
        "updatexml",
        "load_file",
        "if",
        "ifnull",
        "coalesce",
        "count",
        "cast",
        "convert",
        "md5",
        "sha1",
        "hex",
        "unhex",
        "length",
        "len",
        "lower",
        "upper",
        "group_concat",
        "randomblob",
        "make_set",
        "elt",
        "exp",
        "floor",
        "rand",
        "now",
        "sysdate",
        "db_name",
        "user_name",
        "row",
        "json_extract",
        "xmltype",
        "name_const",
        "dbms_pipe.receive_message",
        "utl_inaddr.get_host_address",
        "utl_http.request",
        "sqlite_version",
    ]
)
# Multi-word operators fold into one token, as libinjection does ("union all select" is U then E).
_FOLD: Final[dict[tuple[str, str], str]] = {
    ("union", "all"): "U",
    ("union", "distinct"): "U",
    ("order", "by"): "B",
    ("group", "by"): "B",
    ("waitfor", "delay"): "T",
    ("waitfor", "time"): "T",
}
_MAX_TOKENS: Final = 10

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
_LOW_RE: Final = re.compile("|".join(f"(?:{p})" for p in _LOW))
_HIGH_RE: Final = re.compile("|".join(f"(?:{p})" for p in _HIGH))


# Every bad shape above needs one of these in the value: a quote (an `s` token or a quoted context), `;`,
# `/*!` (X), `&&`/`||` or the word and/or/xor (&), union/intersect/except (U), order/group by (B),
# waitfor/xp_cmdshell/sp_* (T); `high` adds `(` (f) and the statement words (E). Tokenising costs
# 15-20 µs on a URL-sized value and this one search ~0.3 µs, and most benign values (URLs, names,
# prose without those words) have none. Words are sought in the lower-cased value: a token lower-cases
# to an ASCII keyword only if its own letters are that keyword's, and no keyword needs `k`, the one
# letter a non-ASCII character (KELVIN SIGN) lower-cases to.
_LOW_NEEDS: Final = frozenset(
    [
        "'",
        '"',
        "`",
        ";",
        "/*!",
        "&&",
        "||",
        "or",
        "and",
        "union",
        "intersect",
        "except",
        "group",
        "xp_cmdshell",
        "sp_",
    ]
)
_HIGH_NEEDS: Final = _LOW_NEEDS | frozenset(
    [
        "(",
        "select",
        "insert",
        "update",
        "delete",
        "drop",
        "create",
        "alter",
        "exec",
        "truncate",
        "declare",
        "shutdown",
    ]
)
# Shaped as a trie (`(?:a(?:lter|nd)|...)`) so that sre skips to the first letters: ~0.8 µs on a URL.
_LOW_SUSPECT: Final = re.compile(trie_pattern(_LOW_NEEDS))
_HIGH_SUSPECT: Final = re.compile(trie_pattern(_HIGH_NEEDS))


def suspect_pattern(*, high: bool) -> re.Pattern[str]:
    """A search that fails on the lower-cased value (or values joined by newlines) only if none is SQLi."""
    return _HIGH_SUSPECT if high else _LOW_SUSPECT


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
    pattern = _HIGH_RE if high else _LOW_RE
    for context in ("", "'", '"'):
        if context and context not in value:
            continue
        fingerprint = sql_fingerprint(value, context)
        if pattern.search(fingerprint):
            return f"{context or 'as-is'}:{fingerprint}"
    return None


def sql_fingerprint(value: str, context: str = "") -> str:
    """Token-type letters of the first tokens of `value` read in `context` ('', "'" or '"')."""
    types: list[str] = []
    start = 0
    if context:
        end = value.find(context)
        types.append("s")  # the application's own literal, closed by the first quote in the value
        start = end + 1
    previous_word = ""
    for token in _TOKEN.finditer(value, start):
        kind = token.lastgroup
        if kind == "ws":
            continue
        text = token.group()
        if kind == "word":
            word = text.lower()
            folded = _FOLD.get((previous_word, word))
            if folded is not None:
                types[-1] = folded
                previous_word = ""
                continue
            previous_word = word
            nxt = value[token.end() : token.end() + 1]
            letter = "f" if nxt == "(" and word in _FUNCTIONS else _WORDS.get(word, "n")
        else:
            previous_word = ""
            letter = _letter(kind, text)
            if letter == "u" and types and types[-1] in "1nvs)":
                letter = "o"  # after a value it is binary: 1-1
        if letter in "1nvfs" and len(types) >= 1 and types[-1] == "u":
            types.pop()  # a sign before a value (-1, !x) is part of the value
        types.append(letter)
        if len(types) > _MAX_TOKENS:
            break
    # A comment in the middle is only whitespace to SQL; one at the end cuts off the rest of the query.
    joined = "".join(t for i, t in enumerate(types) if t != "c" or i == len(types) - 1)
    return joined.replace("u", "o")


def _letter(kind: str | None, text: str) -> str:
    if kind == "str":
        return "s"
    if kind == "num":
        return "1"
    if kind == "var":
        return "v"
    if kind == "cmt":
        return "c"
    if kind == "xc":
        return "X"
    if kind == "punct":
        return text
    if kind == "op2":
        return "&" if text in ("||", "&&") else "o"
    if text in "-+!~":
        return "u"  # maybe unary; decided when the next token arrives
    return "o"
