"""The SQL vocabulary of the SQLi tokeniser: a keyword's token letter, known functions, two-word folds.

The letters are those of `sqli`'s fingerprints (E statement, U union, & and/or, o operator, k keyword,
1 literal, T time/shell procedure); a word not listed is a name (`n`).
"""

from __future__ import annotations

from typing import Final

WORDS: Final[dict[str, str]] = {
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
FUNCTIONS: Final = frozenset(
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
FOLD: Final[dict[tuple[str, str], str]] = {
    ("union", "all"): "U",
    ("union", "distinct"): "U",
    ("order", "by"): "B",
    ("group", "by"): "B",
    ("waitfor", "delay"): "T",
    ("waitfor", "time"): "T",
}
