"""The planned evaluator (gates skip rules that cannot match) gives the verdict of a rule-by-rule walk."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from originguard.waf import RateState, WafRequest, compile_acl, evaluate
from originguard.waf.codegen import _joiner
from originguard.waf.evaluate import evaluate_reference
from originguard.waf.ipset import parse_ip
from originguard.waf.plan import ValuesGate
from originguard.waf.regex import literal_search, prefix_pattern, required_literals, trie_pattern
from originguard.waf.sqli import _HIGH, detect_sqli, fingerprint_verdict, is_bad_shape, sql_fingerprint

from .helpers import request, rules_acl

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench.waf_bench import REQUESTS, hundred_rule_acl

BENCH_ACL = compile_acl(hundred_rule_acl())

# Pieces that the bench ACL and the core group look for, so random requests hit rules often.
WORDS = [
    "/admin-3",
    "/wp-login4.php",
    "/internal2",
    "badbot7",
    "BadBot1",
    "token5=",
    "p3",
    "P9",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "' or 1=1--",
    "1 union select 1,2",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "../../etc/passwd",
    "%2e%2e%2f",
    "http://1.2.3.4/x",
    ";cat /etc/passwd",
    "${jndi:ldap://x}",
    "sqlmap",
    "Nikto",
    "O'Reilly",
    "a&b=c",
    "%00",
    "%u002e",
    "&lt;",
    "ſ",
    "é",
    " ",
    "=",
    "+",
    "x",
    "TRACE",
    # Encoded and special-character payloads: the generated evaluator skips transforms and detectors
    # when their trigger characters are absent, so random requests must often contain them.
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "%27%20OR%201%3D1--",
    "%2524%257Bjndi:",
    "&#x3c;svg onload=alert(1)&#x3e;",
    "&lt;img src=x onerror=alert(1)&gt;",
    "\\x3cscript\\x3e",
    "/*!50000union*/ select",
    "UNION SELECT",
    "${IFS}",
    "cmd /c dir",
    ";/bin/sh",
    "|id",
    "`whoami`",
    "$(curl x)",
    "\n",
    "\x00",
    "ΑΣ",
    "İ",
    "q=1;",
    ":",
    "<",
    "'",
    '"',
    "\\",
    "a" * 4100,
    # Benign in raw form, attacks once decoded: the quiet-field skip (`quiet`) must never hide them.
    "%27",
    "%2527",
    "%3c",
    "%253Cscript%253E",
    "&#39;",
    "&#x27; OR 1=1",
    "&apos;",
    "&lt;svg/onload=alert(1)&gt;",
    "+OR+1=1",
    "+union+select+",
    "\\u003cscript\\u003e",
    "\\x27",
    "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "JyBPUiAxPTEtLQ==",
    "%u0027",
    "%%32%37",
    "/*x*/",
    "Or",
    "SeLeCt",
    "1e5",
]
text = st.lists(st.sampled_from(WORDS), max_size=4).map("".join)
ips = st.sampled_from(
    ["198.51.100.20", "192.0.2.7", "203.0.113.9", "10.1.2.3", "192.168.1.1", "::1", "2001:db8::1", "bad"]
)
headers = st.lists(
    st.tuples(
        st.sampled_from(["user-agent", "referer", "cookie", "x-forwarded-for", "accept", "content-type"]),
        text,
    ),
    max_size=4,
)


@st.composite
def requests(draw: st.DrawFn) -> WafRequest:
    query = "&".join(f"{draw(text)}={draw(text)}" for _ in range(draw(st.integers(0, 3))))
    body: bytes = b""
    kind = draw(st.sampled_from(["none", "json", "form", "text", "big", "escaped"]))
    extra: list[tuple[str, str]] = []
    if kind == "json":
        body = json.dumps({draw(text): [draw(text), 1]}).encode()
        extra.append(("content-type", "application/json"))
    elif kind == "form":
        body = f"{draw(text)}={draw(text)}".encode()
        extra.append(("content-type", "application/x-www-form-urlencoded"))
    elif kind == "text":
        body = draw(text).encode()
    elif kind == "escaped":  # JSON escapes (`\u003c` is `<`) and a float the parser re-spells
        key, value = (draw(text).replace('"', "").replace("\\", "") for _ in range(2))
        document = '{"' + key + '": ["\\u003c' + value + '\\u0027", 1.5e3]}'
        body = document.encode("utf-8", "surrogatepass")
        extra.append(("content-type", "application/json"))
    elif kind == "big":  # over the bench ACL's 64 KiB size rule, with a payload at the end
        body = b"x" * 65_600 + draw(text).encode()
    return request(
        draw(st.sampled_from(["/", "/static/app.js", "/search"])) + draw(text),
        query,
        [*draw(headers), *extra],
        method=draw(st.sampled_from(["GET", "POST", "TRACE"])),
        ip=draw(ips),
        body=body,
        truncated=draw(st.sampled_from([False, False, False, False, True])),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests(), min_size=1, max_size=5))
def test_planned_evaluation_matches_rule_by_rule_walk_on_the_bench_acl(batch: list[WafRequest]) -> None:
    planned, reference = RateState(), RateState()
    for step, req in enumerate(batch):
        now = 1000.0 + step
        assert evaluate(BENCH_ACL, req, now, planned) == evaluate_reference(BENCH_ACL, req, now, reference)


def _rule(name: str, statement: dict[str, Any], action: str = "block") -> dict[str, Any]:
    return {"name": name, "priority": int(name[1:]), "action": action, "statement": statement}


# Counts, labels, rate limits, oversize bodies and negations: the parts of the semantics gates could break.
EDGE_ACL = rules_acl(
    [
        {**_rule("r0", {"byte_match": {"field": "path", "search": "x"}}, "count"), "labels": ["seen:x"]},
        _rule("r1", {"label_match": {"label": "seen:x"}}, "count"),
        _rule("r2", {"label_match": {"label": "never"}}),
        _rule("r3", {"label_match": {"label": "seen", "scope": "namespace"}}, "count"),
        _rule("r4", {"rate_based": {"limit": 2, "window": "10s", "keys": ["ip"]}}),
        _rule(
            "r5",
            {
                "rate_based": {
                    "limit": 1,
                    "window": "10s",
                    "keys": ["path"],
                    "scope_down": {
                        "byte_match": {"field": "method", "search": "POST", "position": "exactly"}
                    },
                }
            },
        ),
        _rule("r6", {"size_constraint": {"field": "body", "op": "gt", "size": 99, "oversize": "match"}}),
        _rule(
            "r7", {"not": {"byte_match": {"field": "query", "search": "=", "position": "contains"}}}, "count"
        ),
        _rule(
            "r8",
            {
                "or": [
                    {"regex_match": {"field": {"header": "user-agent"}, "pattern": "(?i)nikto|sqlmap"}},
                    {"ip_set": {"cidrs": ["10.0.0.0/8"], "forwarded_ip": {"fallback": "match"}}},
                ]
            },
            "count",
        ),
        _rule("r9", {"size_constraint": {"field": "query", "op": "lt", "size": 2}}, "count"),
        _rule("r10", {"geo_match": {"countries": ["XB"]}}, "allow"),
        _rule("r11", {"regex_match": {"field": {"query_arg": "P3"}, "pattern": "^a+$"}}),
        # Rate rules the generated evaluator runs itself (no view): counting, labelling, other keys.
        {
            **_rule("r12", {"rate_based": {"limit": 1, "window": "10s", "keys": ["ip"]}}, "count"),
            "labels": ["seen:rate"],
        },
        _rule(
            "r13", {"rate_based": {"limit": 2, "window": "10s", "keys": [{"header": "user-agent"}, "method"]}}
        ),
        _rule("r14", {"label_match": {"label": "seen:rate"}}, "count"),
        # Count rules whose gate is only a necessary condition: they must still run their matcher.
        _rule("r15", {"regex_match": {"field": "path", "pattern": "x[0-9]"}}, "count"),
        _rule("r16", {"byte_match": {"field": "path", "search": "a", "position": "starts_with"}}, "count"),
        _rule(
            "r17",
            {
                "and": [
                    {"ip_set": {"cidrs": ["10.0.0.0/8", "192.0.2.0/24"]}},
                    {"byte_match": {"field": "path", "search": "x"}},
                ]
            },
            "count",
        ),
        _rule("r18", {"byte_match": {"field": "query", "search": "="}}, "count"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(requests(), min_size=1, max_size=6))
def test_planned_evaluation_matches_rule_by_rule_walk_on_edge_cases(batch: list[WafRequest]) -> None:
    planned, reference = RateState(), RateState()
    for step, req in enumerate(batch):
        now = 1000.0 + step * 0.5
        assert evaluate(EDGE_ACL, req, now, planned) == evaluate_reference(EDGE_ACL, req, now, reference)


# Every transform, on fields whose raw text looks benign: the quiet-field skip must prove each skip.
_DECODING = ["url_decode", "html_entity_decode", "js_decode", "lowercase", "remove_nulls"]
DECODING_ACL = rules_acl(
    [
        _rule("r0", {"byte_match": {"field": "query", "search": "'", "transforms": ["url_decode"]}}, "count"),
        _rule("r1", {"byte_match": {"field": "all_query_args", "search": " or ", "transforms": _DECODING}}),
        _rule(
            "r2", {"regex_match": {"field": "body", "pattern": "<script", "transforms": ["base64_decode"]}}
        ),
        _rule("r3", {"byte_match": {"field": "json_values", "search": "<", "transforms": ["js_decode"]}}),
        _rule("r4", {"xss": {"field": "json_values"}}),
        _rule(
            "r5", {"sqli": {"field": "all_query_args", "transforms": ["url_decode_uni", "url_decode_uni"]}}
        ),
        _rule(
            "r6",
            {"byte_match": {"field": "path", "search": "SELECT", "transforms": ["compress_white_space"]}},
        ),
        _rule(
            "r7",
            {"byte_match": {"field": {"header": "referer"}, "search": "&", "transforms": ["url_decode"]}},
        ),
        _rule(
            "r8",
            {"size_constraint": {"field": "query", "op": "gt", "size": 20, "transforms": ["url_decode"]}},
        ),
        _rule("r9", {"xss": {"field": "cookies", "transforms": ["html_entity_decode", "url_decode"]}}),
        _rule("r10", {"regex_match": {"field": "path", "pattern": "(?i)1=1", "transforms": ["cmd_line"]}}),
        _rule("r11", {"byte_match": {"field": "json_values", "search": "1500"}}),
        _rule("r12", {"sqli": {"field": "body", "transforms": ["url_decode", "lowercase"]}}),
        _rule("r13", {"byte_match": {"field": "query", "search": "+", "transforms": ["url_decode"]}}),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(requests(), min_size=1, max_size=4))
def test_planned_evaluation_matches_rule_by_rule_walk_behind_decoding(batch: list[WafRequest]) -> None:
    planned, reference = RateState(), RateState()
    for step, req in enumerate(batch):
        now = 1000.0 + step
        got = evaluate(DECODING_ACL, req, now, planned)
        assert got == evaluate_reference(DECODING_ACL, req, now, reference)


def test_quiet_fields_skip_screens_but_not_attacks_hidden_by_encoding() -> None:
    source: str = BENCH_ACL.evaluator.source  # type: ignore[attr-defined]
    assert "= True" in source  # some fields are proved quiet in one search
    hidden = [
        request("/item", "id=%27%20or%201%3D1--"),
        request("/item", "id=1+union+select+1,2"),
        request("/item", "q=&#39;+or+1=1--"),
        request("/item", "q=%253Cscript%253Ealert(1)%253C/script%253E"),
        request(
            "/api",
            method="POST",
            body=rb'{"a": "\u003cscript\u003ealert(1)"}',
            headers=[("content-type", "application/json")],
        ),
    ]
    for req in hidden:
        assert evaluate(BENCH_ACL, req, 0.0, RateState()) == evaluate_reference(
            BENCH_ACL, req, 0.0, RateState()
        )
        assert evaluate(DECODING_ACL, req, 0.0, RateState()) == evaluate_reference(
            DECODING_ACL, req, 0.0, RateState()
        )
    assert evaluate(BENCH_ACL, hidden[0], 0.0, RateState()).blocked
    assert evaluate(BENCH_ACL, hidden[1], 0.0, RateState()).blocked
    assert evaluate(BENCH_ACL, hidden[4], 0.0, RateState()).blocked
    base64 = request("/upload", method="POST", body=b"PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")
    assert evaluate(DECODING_ACL, base64, 0.0, RateState()).rule == "r2"


def test_generated_evaluator_names_config_strings_only_through_its_namespace() -> None:
    hostile = '\'); import os  # """\n'
    compiled = rules_acl([_rule("r0", {"byte_match": {"field": "path", "search": hostile}})])
    source: str = compiled.evaluator.source  # type: ignore[attr-defined]
    assert "import os" not in source and "'" not in source.replace("'\\n'", "")
    assert evaluate(compiled, request("/a" + hostile), 0.0, RateState()).blocked
    assert not evaluate(compiled, request("/a"), 0.0, RateState()).blocked


def test_bench_requests_get_the_reference_verdicts() -> None:
    for req in REQUESTS.values():
        assert evaluate(BENCH_ACL, req, 0.0, RateState()) == evaluate_reference(
            BENCH_ACL, req, 0.0, RateState()
        )


def test_label_rules_run_always_unless_no_earlier_rule_adds_the_label() -> None:
    always = EDGE_ACL.plan.always
    assert always >> 1 & 1 and always >> 3 & 1  # seen:x comes from r0
    assert not always >> 2 & 1  # nothing adds `never`, and no gate marks a label rule


SQL_PIECES = st.sampled_from(
    [
        *("1", "a", "'", '"', "`", " ", "or", "OR", "Or", "and", "union", "select", "(", ")", ";", "--"),
        *("#", "/*!", "*/", "||", "&&", "=", "-", "order", "by", "waitfor", "delay", "sleep", "@@v"),
        *("from", "x", "ſ", "K", "İ", "group", "xp_cmdshell", "exec", "into", "null", "0x1f", ","),
        # Around keywords: what may end a token before one (digits, hex, `$`, non-ASCII spaces and digits)
        # and what may not (letters, `_`, other non-ASCII), and words with keywords inside.
        *("xor", "for", "world", "0X", "0xf", "f", "$", "_", "٣", "\xa0", "é", "\u2003", "1.", "e5", "."),
        *("execute", "time", "intersect", "except", "sp_executesql", "sp_oacreate", "@", "/*x*/", "\n"),
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(SQL_PIECES, max_size=10).map("".join), st.booleans())
def test_sqli_quick_check_never_loses_a_detection(value: str, high: bool) -> None:
    assert detect_sqli(value, high=high) == fingerprint_verdict(value, high=high)


@settings(max_examples=3000, deadline=None)
@given(st.lists(SQL_PIECES, max_size=10).map("".join), st.booleans())
def test_sqli_tokeniser_stopping_early_gives_the_full_verdict(value: str, high: bool) -> None:
    full = None
    for context in ("", "'", '"'):
        if (not context or context in value) and not value.isalnum() and value:
            fingerprint = sql_fingerprint(value, context)
            if is_bad_shape(fingerprint, high=high):
                full = f"{context or 'as-is'}:{fingerprint}"
                break
    assert fingerprint_verdict(value, high=high) == full


FINGERPRINT_LETTERS = st.text(alphabet="s1nvfkEUBT&oc()X,;.", max_size=7)


@settings(max_examples=3000, deadline=None)
@given(FINGERPRINT_LETTERS, FINGERPRINT_LETTERS, st.sampled_from([p for p in _HIGH if p.startswith("^")]))
def test_prefix_pattern_accepts_every_start_of_a_match(start: str, rest: str, shape: str) -> None:
    if re.match(shape, start + rest):
        assert re.fullmatch(prefix_pattern(shape), start) or re.match(shape, start)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["ab", "abc", "b", "x", "/wp-", "/w", "Nikto", "é"]), min_size=1, max_size=4))
def test_literal_search_finds_every_literal(literals: list[str]) -> None:
    found = literal_search(frozenset(literals), folded=False)
    assert found is not None
    for literal in literals:
        assert found(f"..{literal}..")
    assert not found("zzz")
    folded = literal_search(frozenset(lit.lower() for lit in literals if lit.isascii()), folded=True)
    if folded is not None:
        for literal in literals:
            if literal.isascii():
                assert folded(literal.upper())


def test_trie_pattern_factors_prefixes_and_keeps_the_shortest() -> None:
    assert trie_pattern(frozenset({"/admin-1", "/admin-2", "/wp-"})) == r"/(?:admin\-(?:1|2)|wp\-)"
    assert trie_pattern(frozenset({"ab", "abc"})) == "ab"


def test_required_literals_keep_literal_repeats() -> None:
    assert required_literals(r"(?:^|/)\.\.+/") == frozenset({".."})
    assert required_literals(r"(?si)ABC") == frozenset({"abc"})


def test_parse_ip_accepts_only_canonical_dotted_quads() -> None:
    assert parse_ip("198.51.100.21") == (4, (198 << 24) | (51 << 16) | (100 << 8) | 21)
    for bad in ("01.2.3.4", "1.2.3.256", "1.2.3", "+1.2.3.4", " 1.2.3.4", "1.2.3.4.", "١.2.3.4"):
        assert parse_ip(bad) is None
    assert parse_ip("::ffff:1.2.3.4") == (4, 0x01020304)


def test_values_are_joined_by_a_character_no_screened_literal_holds() -> None:
    # Not a newline when a rule screens for one: any two query arguments joined by it would pass.
    newline = rules_acl([_rule("r0", {"byte_match": {"field": "all_query_args", "search": "a\nb"}})])
    literals = {lit for gate, _ in newline.plan.steps if isinstance(gate, ValuesGate) for lit in gate.plain}
    assert any("\n" in literal for literal in literals) and _joiner(newline.plan) == "\x01"
    odd = rules_acl([_rule("r0", {"byte_match": {"field": "all_query_args", "search": "a\x01b"}})])
    assert _joiner(odd.plan) == "\x02"


# cmd_line lower-cases text without its triggers, so its fields can be proved quiet: every trigger must
# keep the proof from hiding what the transform reveals (`who'am^i`, `a\tb`, `x /`, `a  b`).
CMD_LINE_ACL = rules_acl(
    [
        _rule(
            "r0", {"byte_match": {"field": "all_query_args", "search": "whoami", "transforms": ["cmd_line"]}}
        ),
        _rule("r1", {"byte_match": {"field": "path", "search": "x/", "transforms": ["cmd_line"]}}),
        _rule("r2", {"byte_match": {"field": "query", "search": "a b", "transforms": ["cmd_line"]}}),
        _rule(
            "r3",
            {
                "regex_match": {
                    "field": "all_query_args",
                    "pattern": "1=1",
                    "transforms": ["url_decode", "cmd_line"],
                }
            },
        ),
        _rule("r4", {"byte_match": {"field": "path", "search": "x(", "transforms": ["cmd_line"]}}),
    ]
)
SHELL_NOISE = ("'", '"', "^", "\\", ",", ";", " ", "\t", "\xa0", "\n", "+", "%20", "&", "W", "x")
CMD_NOISE = st.sampled_from(SHELL_NOISE)


@st.composite
def cmd_text(draw: st.DrawFn) -> str:
    """A word a rule looks for (after cmd_line) with shell noise inserted: `who'ami`, `x /`, `a\tb`."""
    text = draw(st.sampled_from(["whoami", "x/", "x(", "a b", "1=1", "ok"]))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(CMD_NOISE) + text[at:]
    return text


@settings(max_examples=1500, deadline=None)
@given(cmd_text(), cmd_text(), cmd_text())
def test_planned_evaluation_matches_rule_by_rule_walk_behind_cmd_line(
    path: str, arg: str, other: str
) -> None:
    req = request("/" + path, f"q={arg}&z={other}")
    assert evaluate(CMD_LINE_ACL, req, 0.0, RateState()) == evaluate_reference(
        CMD_LINE_ACL, req, 0.0, RateState()
    )


def test_every_single_piece_of_shell_noise_is_seen_behind_cmd_line() -> None:
    for word in ("whoami", "x/", "x(", "a b", "1=1"):
        for noise in SHELL_NOISE:
            for at in range(len(word) + 1):
                text = word[:at] + noise + word[at:]
                for req in (request("/" + text), request("/", f"q={text}"), request("/", text)):
                    assert evaluate(CMD_LINE_ACL, req, 0.0, RateState()) == evaluate_reference(
                        CMD_LINE_ACL, req, 0.0, RateState()
                    ), text
