"""The engine's ModSecurity v3 semantics on small SecLang snippets (each checked against
libmodsecurity 3.0.15 by hand when written)."""

from __future__ import annotations

from originguard.waf.seclang.transaction import HttpRequest
from tests.unit.waf.seclang.engine_support import get, ids, ruleset


def test_setvar_runs_per_matching_value_so_two_args_score_twice() -> None:
    rs = ruleset(
        'SecRule ARGS "@rx ." "id:1,phase:1,pass,setvar:tx.s=+5"\n'
        'SecRule TX:s "@eq 10" "id:2,phase:1,pass,msg:ten"\n'
    )
    assert ids(rs, get()) == [1, 2]


def test_setvar_of_a_chain_start_runs_even_when_the_chain_fails() -> None:
    rs = ruleset(
        'SecRule ARGS "@rx 1" "id:4,phase:1,pass,chain,setvar:tx.c=1"\n'
        'SecRule ARGS "@rx zzz" "t:none,setvar:tx.d=1"\n'
        'SecRule TX:c "@eq 1" "id:5,phase:1,pass"\n'
        'SecRule &TX:d "@eq 1" "id:6,phase:1,pass"\n'
    )
    assert ids(rs, get()) == [5]


def test_chain_matches_only_when_every_link_matches() -> None:
    rs = ruleset('SecRule ARGS:a "@rx 1" "id:1,phase:1,deny,chain"\nSecRule ARGS:b "@rx 2"\n')
    verdict = rs.evaluate_request(get())
    assert verdict.interrupted and verdict.status == 403 and verdict.rule_id == 1


def test_skip_after_jumps_past_the_marker() -> None:
    rs = ruleset(
        'SecRule ARGS "@rx ." "id:1,phase:1,pass,nolog,skipAfter:END"\n'
        'SecRule ARGS "@rx ." "id:2,phase:1,pass"\n'
        "SecMarker END\n"
        'SecRule ARGS "@rx ." "id:3,phase:1,pass"\n'
    )
    assert ids(rs, get()) == [3]


def test_skip_after_a_missing_marker_skips_the_rest_of_the_phase_only() -> None:
    rs = ruleset(
        'SecAction "id:1,phase:1,pass,nolog,skipAfter:NOWHERE"\n'
        'SecAction "id:2,phase:1,pass"\n'
        'SecAction "id:3,phase:2,pass"\n'
    )
    assert ids(rs, get()) == [3]


def test_exclusion_and_count() -> None:
    rs = ruleset(
        'SecRule ARGS|!ARGS:a "@rx ." "id:1,phase:1,pass,setvar:tx.n=+1"\n'
        'SecRule TX:n "@eq 1" "id:2,phase:1,pass"\n'
        'SecRule &ARGS "@eq 2" "id:3,phase:1,pass"\n'
        'SecRule &ARGS:zz "@eq 0" "id:4,phase:1,pass"\n'
        'SecRule ARGS_NAMES|!ARGS_NAMES:/^A$/ "@rx ^a$" "id:5,phase:1,pass"\n'
    )
    assert ids(rs, get()) == [1, 2, 3, 4]


def test_ctl_rule_remove_target_by_id_and_rule_remove_by_id() -> None:
    rs = ruleset(
        'SecAction "id:1,phase:1,pass,nolog,ctl:ruleRemoveTargetById=2;ARGS:a,ctl:ruleRemoveById=3"\n'
        'SecRule ARGS "@rx 1" "id:2,phase:1,pass"\n'
        'SecRule ARGS "@rx 2" "id:3,phase:1,pass"\n'
        'SecRule ARGS "@rx 2" "id:4,phase:1,pass"\n'
    )
    assert ids(rs, get()) == [4]


def test_macros_expand_in_msg_and_setvar() -> None:
    rs = ruleset(
        'SecRule REQUEST_HEADERS:Host "@rx ." '
        '"id:1,phase:1,pass,setvar:tx.h=%{request_headers.host}-%{MATCHED_VAR_NAME}"\n'
        'SecRule TX:h "@streq x-REQUEST_HEADERS:Host" "id:2,phase:1,pass,msg:\'got %{tx.h} %{rule.id}\'"\n'
    )
    verdict = rs.evaluate_request(get())
    assert [m.msg for m in verdict.matched if m.rule_id == 2] == ["got x-REQUEST_HEADERS:Host 2"]


def test_detection_only_never_interrupts_but_records() -> None:
    rs = ruleset('SecRuleEngine DetectionOnly\nSecRule ARGS "@rx ." "id:1,phase:1,deny"\n')
    verdict = rs.evaluate_request(get())
    assert not verdict.interrupted and [m.rule_id for m in verdict.matched] == [1]


def test_block_takes_the_default_action_and_a_bare_rule_passes() -> None:
    rs = ruleset(
        'SecDefaultAction "phase:1,log,auditlog,deny,status:402"\n'
        'SecRule ARGS "@rx ." "id:1,phase:1,log"\n'
        'SecRule ARGS "@rx ." "id:2,phase:1,block"\n'
    )
    verdict = rs.evaluate_request(get())
    assert verdict.interrupted and verdict.status == 402 and verdict.rule_id == 2


def test_capture_fills_tx_numbers() -> None:
    rs = ruleset(
        'SecRule ARGS:a "@rx (\\d)" "id:1,phase:1,pass,capture,setvar:tx.got=%{tx.1}"\n'
        'SecRule TX:got "@streq 1" "id:2,phase:1,pass"\n'
    )
    assert ids(rs, get()) == [1, 2]


def test_uri_variables_decode_like_modsecurity() -> None:
    rs = ruleset(
        'SecRule REQUEST_FILENAME "@streq /a/b+c%zz/dA.php" "id:1,phase:1,pass"\n'
        'SecRule QUERY_STRING "@streq x=%41+b" "id:2,phase:1,pass"\n'
        'SecRule REQUEST_BASENAME "@streq dA.php" "id:3,phase:1,pass"\n'
        'SecRule ARGS:x "@streq A b" "id:4,phase:1,pass"\n'
    )
    assert ids(rs, get(b"/a%2Fb+c%zz/d%41.php?x=%41+b#f")) == [1, 2, 3, 4]


def test_urlencoded_body_gives_args_post_in_phase_two() -> None:
    rs = ruleset(
        "SecRequestBodyAccess On\n"
        'SecRule ARGS_POST:q "@streq v w" "id:1,phase:2,pass"\n'
        'SecRule &ARGS_POST "@eq 0" "id:2,phase:1,pass"\n'
    )
    request = HttpRequest(
        b"POST",
        b"/",
        b"HTTP/1.1",
        ((b"Host", b"x"), (b"Content-Type", b"application/x-www-form-urlencoded")),
        b"q=v+w",
    )
    assert ids(rs, request) == [2, 1]


def test_nolog_rules_are_matched_but_not_logged() -> None:
    rs = ruleset('SecAction "id:1,phase:1,pass,nolog"\n')
    verdict = rs.evaluate_request(get())
    assert [(m.rule_id, m.logged) for m in verdict.matched] == [(1, False)]


def test_skip_counts_rules_not_markers() -> None:
    rs = ruleset(
        'SecAction "id:3,phase:1,pass,skip:1"\n'
        "SecMarker FOO\n"
        'SecAction "id:4,phase:1,pass"\n'
        'SecAction "id:5,phase:1,pass"\n'
    )
    assert ids(rs, get()) == [3, 5]


def test_a_chained_rules_msg_does_not_replace_the_first() -> None:
    rs = ruleset(
        'SecRule ARGS "@rx ." "id:5,phase:1,pass,msg:a,logdata:%{MATCHED_VAR},chain"\n'
        'SecRule ARGS:b "@rx ." "msg:%{MATCHED_VAR_NAME}"\n'
    )
    [m] = rs.evaluate_request(get()).matched
    assert (m.msg, m.logdata) == ("a", "2")
