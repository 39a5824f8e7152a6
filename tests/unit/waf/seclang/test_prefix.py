"""Phase 1's request-independent opening is run once per rule set and every transaction starts
from what it left: the verdicts must be those of running it in every transaction."""

from __future__ import annotations

import pytest
from bench.crs_bench import fresh_values, request_set, setup_text

from originguard.waf.seclang import load_ruleset
from originguard.waf.seclang.transaction import HttpRequest, Verdict
from tests.crs_regression import crs_dir, crs_rule_files

_RULES = """
SecRuleEngine On
SecRule REQUEST_HEADERS:Content-Type "^application/json" \\
  "id:10,phase:1,pass,nolog,t:lowercase,ctl:requestBodyProcessor=JSON"
SecAction "id:11,phase:1,pass,nolog,setvar:tx.limit=3,setvar:tx.score=0"
SecRule &TX:limit "@eq 0" "id:12,phase:1,deny,status:500"
SecRule TX:limit "@lt 5" "id:13,phase:1,pass,log,setvar:tx.low=%{tx.limit}"
SecRule REQUEST_HEADERS:User-Agent "@contains bot" "id:14,phase:1,pass,log,setvar:tx.score=+%{tx.low}"
SecRule TX:score "@ge 3" "id:15,phase:1,deny,status:403"
"""


def _get(agent: bytes, content_type: bytes = b"text/html") -> HttpRequest:
    headers = ((b"Host", b"a.example"), (b"User-Agent", agent), (b"Content-Type", content_type))
    return HttpRequest(b"GET", b"/", b"HTTP/1.1", headers)


def _outcome(verdict: Verdict) -> tuple[object, ...]:
    matched = sorted(verdict.matched)
    return verdict.interrupted, verdict.status, verdict.rule_id, verdict.inbound_score, matched


def test_the_opening_is_found_and_aside_rules_still_run() -> None:
    ruleset = load_ruleset([], before=_RULES)
    start = ruleset.phase1_start
    assert start is not None
    assert start.resume_at == 4  # 10 (aside), 11, 12, 13; 14 reads the request and sets TX
    assert [r.rule_id for r in start.aside] == [10]
    assert [m.rule_id for m in start.matched] == [11, 13]
    json_tx = ruleset.transaction(_get(b"curl", b"application/json"))
    json_tx.request_headers()
    assert json_tx.processor == "JSON"  # the aside rule's ctl took effect


@pytest.mark.parametrize(
    "request_", [_get(b"bot/1"), _get(b"browser"), _get(b"bot", b"application/json")], ids=str
)
def test_verdicts_are_those_of_running_every_rule(request_: HttpRequest) -> None:
    ruleset = load_ruleset([], before=_RULES)
    with_opening = _outcome(ruleset.evaluate_request(request_))
    ruleset.phase1_start = None
    assert _outcome(ruleset.evaluate_request(request_)) == with_opening


def test_an_opening_that_decides_every_request_is_run_as_it_is() -> None:
    rules = 'SecRuleEngine On\nSecRule &TX:setup "@eq 0" "id:1,phase:1,deny,status:500"\n'
    ruleset = load_ruleset([], before=rules)
    assert ruleset.phase1_start is None
    assert ruleset.evaluate_request(_get(b"x")).status == 500


def test_crs_verdicts_are_those_of_running_every_rule() -> None:
    root = crs_dir()
    if not root.is_dir():
        pytest.skip(f"CRS 4.28.0 with its regression suite is not at {root}")
    ruleset = load_ruleset(crs_rule_files(root), before=setup_text(root), data_dirs=(root / "rules",))
    assert ruleset.phase1_start is not None and len(ruleset.phase1_start.matched) >= 20
    requests = [fresh_values(r, i) for i, r in enumerate(request_set().values())]
    with_opening = [_outcome(ruleset.evaluate_request(r)) for r in requests]
    ruleset.phase1_start = None
    assert [_outcome(ruleset.evaluate_request(r)) for r in requests] == with_opening
