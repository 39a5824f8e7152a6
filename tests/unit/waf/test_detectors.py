"""The SQLi and XSS detectors judge structure, not words."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.waf.sqli import _TOKEN, _letter, detect_sqli, sql_fingerprint
from originguard.waf.sqli_lexicon import FOLD, FUNCTIONS, WORDS
from originguard.waf.xss import _SUSPECT_NAMES, _URL_ATTRS, detect_xss
from originguard.waf.xss import SUSPECT as XSS_SUSPECT

from .test_plan import SQL_PIECES


@pytest.mark.parametrize(
    ("value", "context", "fingerprint"),
    [
        ("' or 1=1--", "'", "s&1o1c"),
        ("1 union all select 1,2", "", "1UE1,1"),
        ("admin'--", "'", "sc"),
        ("O'Reilly", "'", "sn"),
        ("-1 or 1=1", "", "1&1o1"),
        ("1/**/union/**/select", "", "1UE"),
    ],
)
def test_fingerprints(value: str, context: str, fingerprint: str) -> None:
    assert sql_fingerprint(value, context) == fingerprint


# The tokeniser before its quoted strings became possessive: one character per step.
_STEPWISE = re.compile(_TOKEN.pattern.replace("++", "").replace("*+", "*"), _TOKEN.flags)


@given(st.text(alphabet="ab1 '\"`\\-#/*!\n.", max_size=16))
def test_possessive_strings_read_the_tokens_a_stepwise_scan_reads(value: str) -> None:
    assert _STEPWISE.pattern != _TOKEN.pattern
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(value)]
    assert tokens == [(m.lastgroup, m.group()) for m in _STEPWISE.finditer(value)]


@pytest.mark.parametrize(
    "attack",
    [
        "' or '1'='1",
        "1 or 1=1",
        "1; drop table users",
        "1' and sleep(5)#",
        "x'='x",
        "1/*!union*/select 1",
        "') or ('a'='a",
        "1 order by 10--",
        "1;waitfor delay '0:0:5'--",
        "'||(select version())||'",
        # Keywords right after what ends a number or a space the quick check must see as a boundary.
        "0xfor 1=1",
        "0XFor 1=1",
        "1or 1=1",
        "1\xa0or 1=1",
        "٣or 1=1",
        "1\u2003OR 1=1",
        "1 xor 1=1",
        "1 order by 5",
        "1 waitfor delay '0:0:5'",
    ],
)
def test_sqli_attacks_detected(attack: str) -> None:
    assert detect_sqli(attack) is not None


@pytest.mark.parametrize(
    "benign",
    [
        "O'Reilly",
        "select a size",
        "rock 'n' roll",
        "1 or 2 tickets",
        "john.o'neil@example.com",
        "$1,299.99",
        "Tom's & Jerry's",
        "price < 100 and rating > 4",
        "union square",
        "it's 5 o'clock",
        "",
        "abc123",
        "hello world",
        "information for orders",
        "O'Reilly gift; wrap it",
    ],
)
def test_sqli_benign_passes(benign: str) -> None:
    assert detect_sqli(benign) is None


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        ("<script>alert(1)</script>", "tag:script"),
        ("<img src=x onerror=alert(1)>", "attr:onerror"),
        ('" onmouseover="alert(1)', "attr:onmouseover"),
        ('<a href="jav&#x09;ascript:alert(1)">', "url:href"),
        ("javascript:alert(1)", "url:javascript"),
        ("<scr<script>ipt>", "tag:script"),
        ('<div style="x:expression(alert(1))">', "style:expression("),
        ('<embed src="data:text/html;base64,xx">', "tag:embed"),
        ("<scr\x00ipt>", "tag:script"),
    ],
)
def test_xss_attacks_detected_with_reason(attack: str, reason: str) -> None:
    assert detect_xss(attack) == reason


@pytest.mark.parametrize(
    "benign",
    [
        "<b>bold</b>",
        "a < b and c > d",
        "I <3 NY",
        '<a href="https://example.com">x</a>',
        '"online" store',
        "javascript: the good parts",
        "key=value",
        '<img src="data:image/png;base64,AAAA">',
        "10:30",
    ],
)
def test_xss_benign_passes(benign: str) -> None:
    assert detect_xss(benign) is None


@given(st.text(max_size=300))
def test_detectors_never_crash(value: str) -> None:
    detect_sqli(value)
    detect_sqli(value, high=True)
    detect_xss(value)


def test_detectors_are_fast_on_hostile_long_input() -> None:
    import time as clock  # tests may read the clock; the detector modules may not

    hostile = ["'" * 50_000, "<a " * 20_000, "/*" * 30_000, '"' + "\\'" * 30_000, "<!--" * 20_000]
    start = clock.perf_counter()
    for value in hostile:
        detect_sqli(value, high=True)
        detect_xss(value)
    assert clock.perf_counter() - start < 2.0


def _reference_fingerprint(value: str, context: str = "") -> str:
    """`sql_fingerprint` as it was before it learnt to stop early, kept to compare against."""
    types: list[str] = []
    start = 0
    if context:
        types.append("s")
        start = value.find(context) + 1
    previous_word = ""
    for token in _TOKEN.finditer(value, start):
        kind = token.lastgroup
        if kind == "ws":
            continue
        text = token.group()
        if kind == "word":
            word = text.lower()
            folded = FOLD.get((previous_word, word))
            if folded is not None:
                types[-1] = folded
                previous_word = ""
                continue
            previous_word = word
            nxt = value[token.end() : token.end() + 1]
            letter = "f" if nxt == "(" and word in FUNCTIONS else WORDS.get(word, "n")
        else:
            previous_word = ""
            letter = _letter(kind, text)
            if letter == "u" and types and types[-1] in "1nvs)":
                letter = "o"
        if letter in "1nvfs" and len(types) >= 1 and types[-1] == "u":
            types.pop()
        types.append(letter)
        if len(types) > 10:
            break
    joined = "".join(t for i, t in enumerate(types) if t != "c" or i == len(types) - 1)
    return joined.replace("u", "o")


@settings(max_examples=3000, deadline=None)
@given(st.lists(SQL_PIECES, max_size=12).map("".join), st.sampled_from(["", "'", '"']))
def test_fingerprint_is_the_reference_fingerprint(value: str, context: str) -> None:
    if not context or context in value:
        assert sql_fingerprint(value, context) == _reference_fingerprint(value, context)


XSS_PIECES = st.sampled_from(
    [
        *("<", ">", "=", ":", " ", '"', "'", "/", "\t", "\n", "\x00", "x", "(", "`", "&", "#", ";"),
        *("on", "ON", "error", "load", "Click", "href", "HREF", "src", "data", "style", "action", "srcdoc"),
        *("javascript", "JavaScript", "vbscript", "java", "script", "alert(1)", "img", "svg", "a", "b"),
        *("ſ", "İ", "ı", "K", "text/html", "image/png", "expression(", "&colon;", "&#58;", "xlink:href"),
        *("javaſcript", "javascrıpt", "JAVASCRİPT", "vbſcrıpt", "java\x00script", "o\x00nload", "ı"),
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(XSS_PIECES, max_size=8).map("".join))
def test_xss_screen_fails_only_on_values_that_are_not_xss(value: str) -> None:
    if detect_xss(value) is not None:
        assert XSS_SUSPECT.search(value.lower()), value


def test_xss_screen_names_every_url_attribute() -> None:
    assert all(any(name.endswith(screened) for screened in _SUSPECT_NAMES) for name in _URL_ATTRS)


@pytest.mark.parametrize(
    "value",
    ["https://shop.example/search?q=shoes", "a=1&b=2", "12:30", "mailto:someone", "sessionid"],
)
def test_xss_screen_passes_plain_urls_and_queries(value: str) -> None:
    assert XSS_SUSPECT.search(value.lower()) is None


@st.composite
def xss_attempts(draw: st.DrawFn) -> str:
    """An attribute or a script URL as it may be reflected, without a tag: `" onerror=alert(1)`."""
    if draw(st.booleans()):
        scheme = draw(st.sampled_from(["javascript", "JaVaScRiPt", "javaſcript", "javascrıpt", "javascrİpt"]))
        scheme = draw(st.sampled_from([scheme, "java\x00script", "vbscript", "LiveScript"]))
        return (
            draw(st.sampled_from(["", " ", "\t"])) + scheme + draw(st.sampled_from([":", " :"])) + "alert(1)"
        )
    lead = draw(st.sampled_from(["", "x", '"', "'", " ", 'x" ', "a b "]))
    name = draw(
        st.sampled_from(
            [
                *("onerror", "ONLOAD", "o\x00nclick", "href", "HREF", "src", "xlink:href", "formaction"),
                *("style", "data", "srcdoc", "title", "background", "poster", "codebase", "dynsrc", "lowsrc"),
                "action",
            ]
        )
    )
    gap = draw(st.sampled_from(["=", " = ", "\t=", "\x00="]))
    value = draw(
        st.sampled_from(
            [
                *(
                    '"javascript:alert(1)"',
                    "javascript:alert(1)",
                    "'expression(alert(1))'",
                    "data:text/html,x",
                ),
                *(
                    "alert(1)",
                    "java\x00script:x(1)",
                    "&#106;avascript:x(1)",
                    "'<svg onload=x>'",
                    "vbscript:x",
                ),
            ]
        )
    )
    return lead + name + gap + value


@settings(max_examples=3000, deadline=None)
@given(xss_attempts())
def test_xss_screen_catches_attributes_and_script_urls_without_a_tag(value: str) -> None:
    if detect_xss(value) is not None:
        assert XSS_SUSPECT.search(value.lower()), value
