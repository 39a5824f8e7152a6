"""Web ACL semantics: priority order, count continues, first terminating action wins, responses, config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from originguard.config.default import DEFAULT_CONFIG_YAML
from originguard.config.loader import load_config_text
from originguard.config.waf import WebAclConfig
from originguard.waf import Action, compile_acl

from .helpers import request, rules_acl, run

GET = {"byte_match": {"field": "method", "search": "GET", "position": "exactly"}}


def test_rules_run_by_priority_and_first_terminating_action_wins() -> None:
    compiled = rules_acl(
        [
            {"name": "late-block", "priority": 20, "action": "block", "statement": GET},
            {"name": "early-allow", "priority": 10, "action": "allow", "statement": GET},
        ]
    )
    verdict = run(compiled, request())
    assert verdict.action is Action.ALLOW and verdict.rule == "early-allow"


def test_count_records_and_continues() -> None:
    compiled = rules_acl(
        [
            {"name": "watch", "priority": 1, "action": "count", "labels": ["seen"], "statement": GET},
            {"name": "stop", "priority": 2, "action": "block", "statement": GET},
        ]
    )
    verdict = run(compiled, request())
    assert (
        verdict.blocked
        and verdict.rule == "stop"
        and verdict.counted == ("watch",)
        and verdict.labels == ("seen",)
    )


def test_default_block_is_403_with_short_body() -> None:
    verdict = run(compile_acl(WebAclConfig(default_action="block")), request())
    assert verdict.blocked and verdict.rule is None and "default action block" in verdict.reason
    assert (
        verdict.response is not None
        and verdict.response.status == 403
        and verdict.response.body == b"Forbidden\n"
    )


def test_block_carries_custom_response() -> None:
    rule = {
        "name": "teapot",
        "priority": 1,
        "action": "block",
        "statement": GET,
        "response": {"status": 418, "headers": {"Retry-After": "60"}, "body": "no"},
    }
    verdict = run(rules_acl([rule]), request())
    assert verdict.response is not None and verdict.response.status == 418 and verdict.response.body == b"no"
    assert ("retry-after", "60") in verdict.response.headers


def test_allow_verdict_has_no_response() -> None:
    verdict = run(rules_acl([{"name": "a", "priority": 1, "action": "allow", "statement": GET}]), request())
    assert verdict.response is None and not verdict.blocked


def test_the_retired_core_group_is_refused_with_what_replaces_it() -> None:
    for managed in ({"name": "core"}, {"name": "core", "excluded": ["rfi"]}):
        rule = {"name": "c", "priority": 1, "action": "block", "statement": {"managed": managed}}
        with pytest.raises(ValidationError, match=re.escape("retired: use `{managed: {name: owasp-crs}}`")):
            WebAclConfig.model_validate({"rules": [rule]})


def test_a_managed_group_other_than_owasp_crs_is_refused() -> None:
    rule = {"name": "c", "priority": 1, "action": "block", "statement": {"managed": {"name": "aws-common"}}}
    with pytest.raises(ValidationError, match="owasp-crs"):
        WebAclConfig.model_validate({"rules": [rule]})


def test_design_yaml_waf_section_loads_and_compiles() -> None:
    config = load_config_text(DEFAULT_CONFIG_YAML, "default", Path("."), load_secrets=False).config
    assert config.waf is not None
    compiled = compile_acl(config.waf.web_acls["main"])
    assert compiled.rule_names == ("owasp-crs", "block-sqli", "per-ip-limit")
    # The OWASP CRS (priority 5) sees it first.
    assert run(compiled, request(query="id=1%20or%201%3D1")).rule == "owasp-crs"
    browser = {"host": "www.example.com", "user-agent": "Mozilla/5.0", "accept": "text/html"}
    assert not run(compiled, request(query="id=1&sort=price", headers=browser)).blocked


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([{"name": "a", "priority": 1, "action": "block", "statement": {"sqlx": {}}}], "exactly one key"),
        (
            [{"name": "a", "priority": 1, "action": "block", "statement": {"sqli": {}, "xss": {}}}],
            "exactly one key",
        ),
        (
            [
                {"name": "a", "priority": 1, "action": "block", "statement": GET},
                {"name": "a", "priority": 2, "action": "block", "statement": GET},
            ],
            "unique",
        ),
        (
            [{"name": "a", "priority": 1, "action": "count", "statement": GET, "response": {"status": 403}}],
            "only for",
        ),
        (
            [
                {
                    "name": "a",
                    "priority": 1,
                    "action": "block",
                    "statement": {"not": {"rate_based": {"limit": 5}}},
                }
            ],
            "top-level",
        ),
        (
            [
                {
                    "name": "a",
                    "priority": 1,
                    "action": "block",
                    "statement": {"geo_match": {"countries": ["Germany"]}},
                }
            ],
            "alpha-2",
        ),
        (
            [
                {
                    "name": "a",
                    "priority": 1,
                    "action": "block",
                    "statement": {"ip_set": {"cidrs": ["10.0.0.1/8"]}},
                }
            ],
            "CIDR",
        ),
        (
            [
                {
                    "name": "a",
                    "priority": 1,
                    "action": "block",
                    "statement": {"rate_based": {"limit": 5, "window": 0}},
                }
            ],
            "window",
        ),
    ],
)
def test_config_errors_say_what_is_wrong(rules: list[dict[str, object]], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        WebAclConfig.model_validate({"rules": rules})
