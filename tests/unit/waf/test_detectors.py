"""The SQLi and XSS detectors judge structure, not words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.waf.sqli import detect_sqli, sql_fingerprint
from originguard.waf.xss import detect_xss


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
