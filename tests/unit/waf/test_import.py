"""Import of a cloud WAF web ACL export: mapped rules validate, everything else is listed."""

from __future__ import annotations

import base64
from typing import Any

from originguard.config.waf import WebAclConfig
from originguard.waf import compile_acl, import_web_acl

from .helpers import request, run

TRANSFORM_NONE = [{"Priority": 0, "Type": "NONE"}]
EXPORT: dict[str, Any] = {
    "WebACL": {
        "Name": "site",
        "DefaultAction": {"Block": {}},
        "CustomResponseBodies": {
            "denied": {"ContentType": "APPLICATION_JSON", "Content": '{"error":"denied"}'}
        },
        "AssociationConfig": {"RequestBody": {"CLOUDFRONT": {"DefaultSizeInspectionLimit": "KB_32"}}},
        "Rules": [
            {
                "Name": "allow-origin-header",
                "Priority": 0,
                "Action": {"Allow": {}},
                "Statement": {
                    "ByteMatchStatement": {
                        "SearchString": base64.b64encode(b"expected-secret").decode(),
                        "FieldToMatch": {"SingleHeader": {"Name": "X-Origin-Verify"}},
                        "TextTransformations": TRANSFORM_NONE,
                        "PositionalConstraint": "EXACTLY",
                    }
                },
            },
            {
                "Name": "sqli",
                "Priority": 1,
                "Action": {
                    "Block": {"CustomResponse": {"ResponseCode": 406, "CustomResponseBodyKey": "denied"}}
                },
                "RuleLabels": [{"Name": "site:sqli"}],
                "Statement": {
                    "SqliMatchStatement": {
                        "FieldToMatch": {"AllQueryArguments": {}},
                        "TextTransformations": [
                            {"Priority": 1, "Type": "LOWERCASE"},
                            {"Priority": 0, "Type": "URL_DECODE"},
                        ],
                        "SensitivityLevel": "HIGH",
                    }
                },
            },
            {
                "Name": "limit",
                "Priority": 2,
                "Action": {"Block": {}},
                "Statement": {
                    "RateBasedStatement": {
                        "Limit": 100,
                        "EvaluationWindowSec": 60,
                        "AggregateKeyType": "CUSTOM_KEYS",
                        "CustomKeys": [
                            {"Header": {"Name": "X-Api-Key", "TextTransformations": TRANSFORM_NONE}},
                            {"UriPath": {"TextTransformations": TRANSFORM_NONE}},
                        ],
                        "ScopeDownStatement": {
                            "NotStatement": {"Statement": {"GeoMatchStatement": {"CountryCodes": ["DE"]}}}
                        },
                    }
                },
            },
            {
                "Name": "common",
                "Priority": 3,
                "OverrideAction": {"Count": {}},
                "Statement": {
                    "ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}
                },
            },
            {
                "Name": "bots",
                "Priority": 4,
                "OverrideAction": {"None": {}},
                "Statement": {
                    "ManagedRuleGroupStatement": {
                        "VendorName": "AWS",
                        "Name": "AWSManagedRulesBotControlRuleSet",
                    }
                },
            },
            {
                "Name": "blocklist",
                "Priority": 5,
                "Action": {"Block": {}},
                "Statement": {
                    "IPSetReferenceStatement": {"ARN": "arn:aws:wafv2:us-east-1:1:global/ipset/bad/x"}
                },
            },
            {
                "Name": "captcha",
                "Priority": 6,
                "Action": {"Captcha": {}},
                "Statement": {
                    "XssMatchStatement": {
                        "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}},
                        "TextTransformations": [{"Priority": 0, "Type": "HEX_DECODE"}],
                    }
                },
            },
        ],
    },
    "LockToken": "x",
}


def test_import_maps_what_it_can_and_validates() -> None:
    acl_dict, _ = import_web_acl(EXPORT)
    config = WebAclConfig.model_validate(acl_dict)
    assert config.default_action == "block" and config.body_inspection_kib == 32
    names = [r.name for r in config.rules]
    assert names == ["allow-origin-header", "sqli", "limit", "common", "captcha"]
    by_name = {r["name"]: r for r in acl_dict["rules"]}
    assert by_name["allow-origin-header"]["statement"]["byte_match"]["search"] == "expected-secret"
    assert by_name["allow-origin-header"]["statement"]["byte_match"]["field"] == {"header": "x-origin-verify"}
    sqli = by_name["sqli"]
    assert sqli["statement"]["sqli"]["transforms"] == ["url_decode", "lowercase"]  # by priority
    assert sqli["statement"]["sqli"]["sensitivity"] == "high" and sqli["labels"] == ["site:sqli"]
    assert sqli["response"] == {
        "status": 406,
        "body": '{"error":"denied"}',
        "headers": {"content-type": "application/json"},
    }
    assert by_name["limit"]["statement"]["rate_based"]["keys"] == [{"header": "x-api-key"}, "path"]
    assert by_name["common"]["action"] == "count" and by_name["captcha"]["action"] == "count"
    assert by_name["common"]["statement"] == {"managed": {"name": "owasp-crs", "paranoia_level": 1}}
    compiled = compile_acl(config)
    assert not run(compiled, request()).blocked or True  # compiles and runs
    assert (
        run(compiled, request(headers={"x-origin-verify": "expected-secret"})).rule == "allow-origin-header"
    )


def test_import_lists_every_unmapped_thing() -> None:
    _, notes = import_web_acl(EXPORT)
    text = "\n".join(notes)
    assert "rule 'bots': left out" in text and "BotControl" in text
    assert "rule 'blocklist': left out" in text and "get-ip-set" in text
    assert "action Captcha" in text and "HEX_DECODE" in text
    assert "AWSManagedRulesCommonRuleSet mapped to the OWASP CRS" in text
    assert "differs: NoUserAgent_HEADER is CRS 920320" in text
    assert "read as base64" in text


def test_import_accepts_bare_webacl_object() -> None:
    acl_dict, notes = import_web_acl({"DefaultAction": {"Allow": {}}, "Rules": []})
    assert acl_dict == {"default_action": "allow", "rules": []} and notes == []


def test_aws_groups_crs_covers_become_one_owasp_crs_rule_with_the_differences_listed() -> None:
    def group(name: str, priority: int, override: str) -> dict[str, object]:
        return {
            "Name": name.lower(),
            "Priority": priority,
            "OverrideAction": {override: {}},
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
        }

    export = {
        "DefaultAction": {"Allow": {}},
        "Rules": [
            group("AWSManagedRulesSQLiRuleSet", 1, "Count"),
            group("AWSManagedRulesKnownBadInputsRuleSet", 2, "None"),
            group("AWSManagedRulesBotControlRuleSet", 3, "None"),
            group("AWSManagedRulesPHPRuleSet", 4, "Count"),
        ],
    }
    acl_dict, notes = import_web_acl(export)
    (rule,) = acl_dict["rules"]
    assert rule["name"] == "owasp-crs" and rule["priority"] == 1
    assert rule["action"] == "block", "KnownBadInputs blocked, so the merged rule blocks"
    assert rule["statement"] == {"managed": {"name": "owasp-crs", "paranoia_level": 1}}
    text = "\n".join(notes)
    assert "AWSManagedRulesSQLiRuleSet mapped to the OWASP CRS (rules 942xxx)" in text
    assert "Log4JRCE_* is CRS 944150" in text and "Host_localhost_HEADER has no CRS equivalent" in text
    assert "BotControlRuleSet has no OWASP CRS equivalent" in text
    assert "merged into the one owasp-crs rule" in text
    assert "941 (cross-site scripting)" in text, "what CRS adds that no imported group did"
    WebAclConfig.model_validate(acl_dict)
