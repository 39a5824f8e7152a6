"""The `owasp-crs` managed group: config → SecLang around CRS → one rule of the ACL → verdicts."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from originguard.config.crs import CrsGroup
from originguard.config.loader import load_config_text
from originguard.config.waf import WebAclConfig
from originguard.errors import ConfigError
from originguard.waf import (
    Action,
    CompiledAcl,
    CrsLoadError,
    RateState,
    Verdict,
    WafRequest,
    block_log_record,
    compile_acl,
    evaluate,
    evaluate_response,
)
from originguard.waf.crs_match import http_request, memo_key
from originguard.waf.crs_setup import bundled_crs_dir, crs_sources
from originguard.waf.seclang import HttpResponse
from tests.support import BROWSER as SUPPORT_BROWSER

# tests/support's browser headers as (name, value) pairs, kept alive as a browser's are
BROWSER = [
    (name.encode(), value.encode())
    for name, _, value in (line.partition(": ") for line in SUPPORT_BROWSER.splitlines())
] + [(b"Connection", b"keep-alive")]


def request(
    target: str = "/",
    extra: list[tuple[bytes, bytes]] | None = None,
    *,
    method: str = "GET",
    body: bytes = b"",
    ip: str = "192.0.2.10",
) -> WafRequest:
    """A request as the edge hands it over: raw target, protocol, headers as sent."""
    raw = target.encode()
    path, _, query = raw.partition(b"?")
    headers = [*BROWSER, *(extra or [])]
    if body:
        headers.append((b"Content-Length", str(len(body)).encode()))
    return WafRequest.from_raw(method.encode(), path, query, headers, ip, body, False, raw, b"HTTP/1.1")


def acl(rules: list[dict[str, Any]], **extra: Any) -> CompiledAcl:
    return compile_acl(WebAclConfig.model_validate({"rules": rules, **extra}))


def crs_rule(action: str = "block", priority: int = 10, **group: Any) -> dict[str, Any]:
    return {
        "name": "crs",
        "priority": priority,
        "action": action,
        "statement": {"managed": {"name": "owasp-crs", **group}},
    }


def run(compiled: CompiledAcl, req: WafRequest) -> Verdict:
    return evaluate(compiled, req, 0.0, RateState())


@functools.cache
def blocking() -> CompiledAcl:
    return acl([crs_rule()])


# -- config and the SecLang around CRS (no engine needed) ----------------------------------------


def test_paranoia_level_outside_1_to_4_is_a_config_error_naming_the_key() -> None:
    yaml = (
        "waf: {web_acls: {main: {rules: [{name: c, priority: 1, action: block, "
        "statement: {managed: {name: owasp-crs, paranoia_level: 5}}}]}}}"
    )
    with pytest.raises(ConfigError) as caught:
        load_config_text(yaml, "x.yaml", Path("."))
    assert "waf.web_acls.main.rules[0].statement.managed.paranoia_level" in str(caught.value)


def test_threshold_below_one_and_two_kinds_in_one_exclusion_are_refused() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        CrsGroup.model_validate({"name": "owasp-crs", "anomaly_threshold": 0})
    with pytest.raises(ValueError, match="exactly one of"):
        CrsGroup.model_validate({"name": "owasp-crs", "exclusions": [{"remove_rule": 1, "remove_tag": "x"}]})
    with pytest.raises(ValueError, match="not a SecLang variable"):
        CrsGroup.model_validate(
            {"name": "owasp-crs", "exclusions": [{"remove_target": {"rule": 1, "target": 'ARGS:q" "x'}}]}
        )


def test_block_is_rule_engine_on_and_count_is_detection_only() -> None:
    group = CrsGroup(name="owasp-crs", paranoia_level=2, anomaly_threshold=7)
    on = crs_sources(group, mode="block", body_limit=16384)
    off = crs_sources(group, mode="count", body_limit=16384)
    assert "SecRuleEngine On\n" in on.before and "SecRuleEngine DetectionOnly\n" in off.before
    assert "setvar:tx.blocking_paranoia_level=2" in on.before
    assert "setvar:tx.inbound_anomaly_score_threshold=7" in on.before
    assert "SecRequestBodyLimit 16384" in on.before and "id:200002" in on.before


def test_exclusions_edit_rules_after_loading_and_path_scoped_ones_run_ctl_first() -> None:
    group = CrsGroup.model_validate(
        {
            "name": "owasp-crs",
            "exclusions": [
                {"remove_rule": 942100},
                {"remove_tag": "attack-xss"},
                {"remove_target": {"rule": 942100, "target": "ARGS:q"}},
                {"remove_target": {"rule": 932100, "target": "ARGS:cmd"}, "path_prefix": "/shell"},
            ],
        }
    )
    sources = crs_sources(group, mode="block", body_limit=1024)
    assert sources.after.splitlines() == [
        "SecRuleRemoveById 942100",
        'SecRuleRemoveByTag "attack-xss"',
        'SecRuleUpdateTargetById 942100 "!ARGS:q"',
    ]
    (scoped,) = [line for line in sources.before.splitlines() if "REQUEST_FILENAME" in line]
    assert '"@beginsWith /shell"' in scoped and "ctl:ruleRemoveTargetById=932100;ARGS:cmd" in scoped
    assert "t:normalizePath" in scoped, "/shell/../admin must not get /shell's exclusion"


def test_bundled_crs_is_package_data_loaded_setup_first_then_rules_in_order() -> None:
    sources = crs_sources(CrsGroup(name="owasp-crs"), mode="block", body_limit=1024)
    bundled = bundled_crs_dir()
    assert "shared" not in str(bundled) and (bundled / "LICENSE").is_file()
    assert sources.files[0].name == "crs-setup.conf.example"
    names = [p.name for p in sources.files[1:]]
    assert names == sorted(names) and names[0] == "REQUEST-901-INITIALIZATION.conf"
    assert not any(name.endswith(".example") for name in names)
    assert sources.stateless


def test_a_setup_that_turns_on_collections_gets_no_verdict_memo(tmp_path: Path) -> None:
    setup = tmp_path / "setup.conf"
    setup.write_text('SecAction "id:900130,phase:1,pass,nolog,setvar:tx.enable_default_collections=1"\n')
    group = CrsGroup(name="owasp-crs", setup_file=str(setup))
    assert not crs_sources(group, mode="block", body_limit=1024).stateless
    setup.write_text('# SecAction "id:900130,phase:1,pass,nolog,setvar:tx.enable_default_collections=1"\n')
    assert crs_sources(group, mode="block", body_limit=1024).stateless, "a comment turns nothing on"


def test_memo_key_tells_apart_requests_whose_bytes_only_moved() -> None:
    one = http_request(request("/", [(b"X-A", b"bc")]))
    two = http_request(request("/", [(b"X-Ab", b"c")]))
    assert memo_key(one) != memo_key(two)
    assert memo_key(one) == memo_key(http_request(request("/", [(b"X-A", b"bc")])))
    assert memo_key(one) != memo_key(http_request(request("/", [(b"X-A", b"bc")], ip="192.0.2.11")))


def test_the_engine_sees_the_request_as_sent() -> None:
    sent = request("/a%2Fb?x=1&y=%27", [(b"X-Mixed-Case", b"v")])
    http = http_request(sent)
    assert http.target == b"/a%2Fb?x=1&y=%27" and http.protocol == b"HTTP/1.1"
    assert (b"X-Mixed-Case", b"v") in http.headers and http.headers[0] == BROWSER[0]


# -- verdicts (the engine) -------------------------------------------------------------------------


def test_a_browser_request_passes() -> None:
    verdict = run(blocking(), request("/products?id=42&sort=price&page=2"))
    assert verdict.action is Action.ALLOW and verdict.rule is None


@pytest.mark.parametrize(
    ("target", "extra", "attack"),
    [
        ("/search?q=1%27%20OR%20%271%27%3D%271", [], "sqli"),
        ("/item?id=1%20UNION%20SELECT%20password%20FROM%20users--", [], "sqli"),
        ("/", [(b"Cookie", b"session=<script>alert(document.cookie)</script>")], "xss"),
        ("/", [(b"Referer", b"javascript:alert(1)//<svg/onload=alert(1)>")], "xss"),
        ("/download?file=../../../../etc/passwd", [], "lfi"),
    ],
)
def test_attacks_in_query_cookie_and_header_are_blocked_naming_rules_and_score(
    target: str, extra: list[tuple[bytes, bytes]], attack: str
) -> None:
    verdict = run(blocking(), request(target, extra))
    assert verdict.blocked and verdict.rule == "crs", verdict.reason
    assert verdict.crs is not None and verdict.crs.inbound_score >= 5
    assert any(label.startswith("owasp-crs:9") for label in verdict.labels)
    assert "anomaly score" in verdict.reason


def test_attacks_in_json_and_multipart_bodies_are_blocked() -> None:
    json_body = b'{"user": {"name": "x\' OR 1=1 --", "bio": "<script>alert(1)</script>"}}'
    verdict = run(
        blocking(), request("/api", [(b"Content-Type", b"application/json")], method="POST", body=json_body)
    )
    assert verdict.blocked and verdict.crs is not None
    multipart = (
        b'--b0undary\r\nContent-Disposition: form-data; name="comment"\r\n\r\n'
        b"<script>alert(document.domain)</script>\r\n--b0undary--\r\n"
    )
    headers = [(b"Content-Type", b"multipart/form-data; boundary=b0undary")]
    assert run(blocking(), request("/upload", headers, method="POST", body=multipart)).blocked


def test_an_unparsable_json_body_is_refused_like_modsecurity_does() -> None:
    verdict = run(
        blocking(),
        request("/api", [(b"Content-Type", b"application/json")], method="POST", body=b'{"a": [1, 2'),
    )
    assert verdict.blocked and verdict.crs is not None and 200002 in verdict.crs.rule_ids


def test_count_mode_counts_and_lets_the_attack_through() -> None:
    compiled = acl([crs_rule("count")])
    sent = request("/search?q=1%27%20OR%20%271%27%3D%271")
    verdict = run(compiled, sent)
    assert verdict.action is Action.ALLOW and verdict.counted == ("crs",)
    assert sent.crs_findings and sent.crs_findings[0][1].inbound_score >= 5
    benign = run(compiled, request("/search?q=shoes"))
    assert benign.counted == ()


def test_a_removed_rule_and_a_removed_target_stop_its_false_positive() -> None:
    sent = "/search?q=1%27%20OR%20%271%27%3D%271"
    first = run(blocking(), request(sent))
    assert first.crs is not None
    attack_rules = [i for i in first.crs.rule_ids if 942000 <= i < 943000]
    assert attack_rules
    tag = acl([crs_rule(exclusions=[{"remove_tag": "attack-sqli"}])])
    assert not run(tag, request(sent)).blocked
    targets = [{"remove_target": {"rule": rule, "target": "ARGS:q"}} for rule in attack_rules]
    assert not run(acl([crs_rule(exclusions=targets)]), request(sent)).blocked
    assert run(acl([crs_rule(exclusions=targets)]), request(sent.replace("q=", "p="))).blocked


def test_a_path_scoped_exclusion_applies_only_under_its_normalised_prefix() -> None:
    compiled = acl([crs_rule(exclusions=[{"remove_tag": "attack-sqli", "path_prefix": "/search"}])])
    attack = "?q=1%27%20OR%20%271%27%3D%271"
    assert not run(compiled, request("/search" + attack)).blocked
    assert run(compiled, request("/login" + attack)).blocked
    assert run(compiled, request("/search/../login" + attack)).blocked


def test_crs_is_one_rule_among_the_others_in_priority_order() -> None:
    compiled = acl(
        [
            {
                "name": "office",
                "priority": 1,
                "action": "allow",
                "statement": {"ip_set": {"cidrs": ["10.0.0.0/8"]}},
            },
            crs_rule(priority=5),
            {
                "name": "no-admin",
                "priority": 9,
                "action": "block",
                "statement": {"byte_match": {"field": "path", "search": "/admin", "position": "starts_with"}},
            },
        ]
    )
    attack = "/search?q=1%27%20OR%20%271%27%3D%271"
    assert run(compiled, request(attack, ip="10.1.2.3")).rule == "office"
    assert run(compiled, request(attack)).rule == "crs"
    assert run(compiled, request("/admin/panel")).rule == "no-admin"


def test_identical_requests_share_a_verdict_from_the_bounded_memo() -> None:
    compiled = acl([crs_rule(verdict_memo=2)])
    crs = compiled.crs[0][0]
    for target in ("/a", "/b", "/a", "/c", "/d"):
        run(compiled, request(target))
    assert len(crs.memo) == 2, "bounded: the oldest entries went first"
    attack = request("/search?q=1%27%20OR%20%271%27%3D%271")
    assert run(compiled, attack).blocked and run(compiled, attack).blocked, "a memo hit still blocks"


def test_block_log_names_rules_variables_and_score_but_no_matched_data_unless_asked() -> None:
    sent = request("/search?q=1%27%20OR%20%271%27%3D%271")
    record = block_log_record(sent, run(blocking(), sent), 0.0, ["x-origin-verify"])
    assert record["crs"]["rules"] and record["crs"]["inbound_score"] >= 5
    assert any(v.startswith("ARGS") for v in record["crs"]["variables"])
    assert "matched_data" not in record["crs"] and record["value"] in (None, "")
    verbose = acl([crs_rule(log_matched_data=True)])
    shown = block_log_record(sent, run(verbose, sent), 0.0, ["x-origin-verify"])
    assert shown["crs"]["matched_data"] and all(len(d) <= 64 for d in shown["crs"]["matched_data"])


def test_matched_data_of_a_secret_header_is_never_logged() -> None:
    sent = request("/", [(b"X-Origin-Verify", b"<script>alert(1)</script>")])
    verdict = run(acl([crs_rule(log_matched_data=True, paranoia_level=2)]), sent)
    if verdict.crs is None or not any("X-Origin-Verify" in v for v in verdict.crs.variables):
        pytest.skip("CRS did not match on that header at this level")
    record = block_log_record(sent, verdict, 0.0, ["x-origin-verify"])
    assert "<script>" not in str(record)


def test_a_leaking_response_is_blocked_at_fill() -> None:
    sent = request("/report")
    leak = HttpResponse(
        200,
        b"HTTP/1.1",
        ((b"Content-Type", b"text/html"),),
        b"<html>Warning: mysql_fetch_array() expects parameter 1 to be resource, boolean given in "
        b"/var/www/html/index.php on line 12</html>",
    )
    verdict = evaluate_response(blocking(), sent, leak)
    assert verdict is not None and verdict.blocked and verdict.crs is not None
    assert verdict.crs.phase == "response" and verdict.crs.outbound_score >= 4
    fine = HttpResponse(200, b"HTTP/1.1", ((b"Content-Type", b"text/html"),), b"<html>hello</html>")
    assert evaluate_response(blocking(), sent, fine) is None


def test_a_bad_directive_is_a_config_error_naming_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "REQUEST-100-BAD.conf").write_text(
        '# a comment\nSecRule ARGS "@rx a" "id:1,phase:2,pass"\nSecNoSuchDirective On\n'
    )
    with pytest.raises(CrsLoadError) as caught:
        acl([crs_rule(rules_dir=str(rules))])
    assert "REQUEST-100-BAD.conf:3" in str(caught.value)
    config = tmp_path / "og.yaml"
    config.write_text(
        "waf: {web_acls: {main: {rules: [{name: c, priority: 1, action: block, "
        "statement: {managed: {name: owasp-crs, rules_dir: rules}}}]}}}\n"
    )
    from originguard.config import load_config
    from originguard.edge.runtime import compile_web_acl

    with pytest.raises(ConfigError) as as_config:
        compile_web_acl(load_config(config), "main")
    message = str(as_config.value)
    assert "waf.web_acls.main.rules[0].statement.managed" in message and "REQUEST-100-BAD.conf:3" in message


# -- CRS 3.3 as Debian packages it (`make debs` installs modsecurity-crs) --------------------------

DEBIAN_CRS = Path("/usr/share/modsecurity-crs/rules")
DEBIAN_SETUP = Path("/etc/modsecurity/crs/crs-setup.conf")


@functools.cache
def crs33() -> CompiledAcl:
    return acl([crs_rule(rules_dir=str(DEBIAN_CRS), setup_file=str(DEBIAN_SETUP))])


@pytest.mark.skipif(
    not (DEBIAN_CRS.is_dir() and DEBIAN_SETUP.is_file()), reason="Debian's modsecurity-crs is not installed"
)
def test_debian_crs_3_3_loads_passes_a_browser_and_blocks_each_attack_kind() -> None:
    compiled = crs33()
    assert run(compiled, request("/products?id=42&sort=price&page=2")).action is Action.ALLOW
    for target, rule_prefix in (
        ("/item?id=1%20UNION%20SELECT%20password%20FROM%20users--", "owasp-crs:942"),
        ("/q?x=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "owasp-crs:941"),
        ("/download?file=../../../../etc/passwd", "owasp-crs:930"),
        ("/run?cmd=%3Bcat%20/etc/passwd", "owasp-crs:932"),
    ):
        verdict = run(compiled, request(target))
        assert verdict.blocked and verdict.crs is not None, target
        assert any(label.startswith(rule_prefix) for label in verdict.labels), (target, verdict.labels)
        assert verdict.crs.inbound_score >= 5
