"""`check` over our own config: the four checks and the extras, each with a reason and a fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from originguard.audit import check_configs
from originguard.config import LoadedConfig
from originguard.config.loader import load_config_text
from originguard.errors import ConfigError

from .audit_helpers import found


def test_secure_config_passes_every_check(ours: dict[str, LoadedConfig]) -> None:
    report = check_configs([ours["secure"]])
    assert report.ok
    assert not [f for f in report.findings if f.severity != "pass"]
    checks = {f.check for f in report.findings}
    expected = {"origin-https-only", "no-http-listener", "header-condition", "default-fixed-response"}
    assert (
        expected | {"secret-strength", "secret-file-mode", "waf-attached", "viewer-protocol", "health-check"}
        <= checks
    )


def test_insecure_config_fails_the_four_checks(ours: dict[str, LoadedConfig]) -> None:
    report = check_configs([ours["insecure"]])
    assert found(
        report, "origin-https-only", "fail", "distribution.origins[0](gate).protocol_policy"
    )  # match-viewer
    assert found(report, "origin-https-only", "fail", "distribution.origins[1](plain).protocol_policy")
    assert found(report, "no-http-listener", "fail", "gate.listeners[0](0.0.0.0:80).protocol")
    assert found(report, "default-fixed-response", "fail", "gate.listeners[0](0.0.0.0:80).default_action")
    assert found(report, "default-fixed-response", "warn", "gate.listeners[1](0.0.0.0:443).default_action")
    [bypass] = found(report, "header-condition", "fail", "rules[0](priority 1)")
    assert "bypass" in bypass.message and bypass.fix


def test_literal_header_value_and_wrong_secret_fail(ours: dict[str, LoadedConfig]) -> None:
    report = check_configs([ours["insecure"]])
    assert found(report, "header-condition", "fail", "rules[1](priority 2).conditions[0].http_header")
    assert found(report, "secret-match", "fail", "rules[2](priority 3).conditions[0].http_header")
    assert not found(report, "header-condition", "fail", "rules[3](priority 4)")  # a redirect, not a forward


def test_extras_on_the_insecure_config(ours: dict[str, LoadedConfig]) -> None:
    report = check_configs([ours["insecure"]])
    assert found(report, "viewer-protocol", "fail", "distribution.default_behavior")
    assert found(report, "waf-attached", "fail", "distribution.web_acl")
    assert found(report, "health-check", "warn", "gate.target_groups.app")
    assert found(report, "origin-header", "fail", "distribution.origins[1](plain).custom_headers")
    strength = found(report, "secret-strength", "fail", "secrets.origin-verify")
    assert len(strength) == 3  # a word, a word, the header name
    assert found(report, "secret-strength", "warn", "secrets.origin-verify")  # 3 accepted values


def test_redirect_only_http_listener_is_a_warning(ours: dict[str, LoadedConfig]) -> None:
    report = check_configs([ours["redirect-only"]])
    assert found(report, "no-http-listener", "warn", "gate.listeners[0](0.0.0.0:80).protocol")
    assert report.ok


def test_same_secret_in_two_environments_fails(ours: dict[str, LoadedConfig]) -> None:
    report = check_configs([ours["secure"], ours["dev"]])
    assert len(found(report, "secret-reuse", "fail")) == 2
    assert not found(check_configs([ours["secure"], ours["redirect-only"]]), "secret-reuse", "fail")


def test_secret_file_readable_by_others_fails(ours: dict[str, LoadedConfig]) -> None:
    secure = ours["secure"]
    os.chmod(secure.resolve_path("secrets/prod-verify"), 0o644)
    [finding] = found(check_configs([secure]), "secret-file-mode", "fail")
    assert "chmod 600" in finding.fix


def test_check_reports_what_an_owasp_crs_group_loads(tmp_path: Path) -> None:
    text = """
waf:
  web_acls:
    main:
      rules:
        - {name: crs, priority: 1, action: count, statement: {managed: {name: owasp-crs, paranoia_level: 2}}}
"""
    report = check_configs([load_config_text(text, "acl.yaml", tmp_path)])
    [crs] = found(report, "waf-crs", "pass", "waf.web_acls.main.rules[0].statement.managed")
    assert "OWASP CRS 4.28.0" in crs.message and "paranoia level 2" in crs.message
    assert "count mode (DetectionOnly)" in crs.message


def test_a_config_naming_the_retired_core_group_is_refused_at_its_key(tmp_path: Path) -> None:
    text = """
waf:
  web_acls:
    main:
      rules:
        - {name: old, priority: 0, action: block, statement: {managed: {name: core}}}
"""
    with pytest.raises(ConfigError) as refused:
        load_config_text(text, "acl.yaml", tmp_path)
    message = str(refused.value)
    assert "acl.yaml" in message and "waf.web_acls.main.rules[0].statement.managed" in message
    assert "retired" in message and "owasp-crs" in message


def test_check_fails_a_crs_directive_the_engine_does_not_implement(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = 'SecRule ARGS "@rx a" "id:1,phase:2,pass"\n'
    (rules / "REQUEST-999-X.conf").write_text(rule + "SecUnknownThing On\n")
    text = f"""
waf:
  web_acls:
    main:
      rules:
        - name: crs
          priority: 0
          action: block
          statement: {{managed: {{name: owasp-crs, rules_dir: {rules}}}}}
"""
    report = check_configs([load_config_text(text, "acl.yaml", tmp_path)])
    [failed] = found(report, "waf-crs", "fail", "waf.web_acls.main.rules[0].statement.managed")
    assert "REQUEST-999-X.conf:2" in failed.message and not report.ok
