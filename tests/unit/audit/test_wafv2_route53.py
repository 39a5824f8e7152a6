"""WAFv2 web ACL and Route 53 record checks."""

from __future__ import annotations

from .audit_helpers import audit, found


def test_enforcing_acl_passes() -> None:
    report = audit("wafv2-secure.json")
    assert found(report, "waf-rules", "pass")
    assert not found(report, "waf-rules", "warn")


def test_count_only_acl_warns_on_rules_default_and_visibility() -> None:
    report = audit("wafv2-count-only.json")
    assert found(report, "waf-rules", "warn", "WebACL(edge-dryrun).Rules")
    assert found(report, "waf-rules", "warn", "WebACL(edge-dryrun).DefaultAction")
    assert found(report, "waf-rules", "warn", "Rules[0](common).VisibilityConfig")
    assert found(report, "waf-rules", "warn", "WebACL(edge-dryrun).VisibilityConfig")


def test_regional_acl_header_gate_is_the_equivalent_of_checks_3_and_4() -> None:
    report = audit("wafv2-regional-header-gate.json")
    assert found(report, "header-condition", "pass", "ByteMatchStatement.SearchString")
    assert found(report, "secret-strength", "pass")  # the CLI's base64 SearchString, decoded


def test_regional_acl_search_string_matches_the_cloudfront_value_once_decoded() -> None:
    report = audit("wafv2-regional-header-gate.json", "cloudfront-get-distribution-dev-reuse.json")
    # The same secret as the dev distribution: reuse is not flagged across families, but strength is
    # judged once, on the decoded value (a base64 text would be a different, 56-character value).
    assert len(found(report, "secret-strength", "pass")) == 1


def test_consistent_latency_records_pass_and_alb_names_are_noted() -> None:
    report = audit("route53-list-resource-record-sets.json")
    assert found(report, "dns-records", "pass")
    assert len(found(report, "dns-records", "info")) == 2


def test_broken_records_warn() -> None:
    report = audit("route53-list-resource-record-sets-broken.json")
    assert found(report, "dns-records", "warn", "AliasTarget.HostedZoneId")
    assert found(report, "dns-records", "warn", "AliasTarget.EvaluateTargetHealth")
    assert found(report, "dns-records", "warn", "SetIdentifier")
    assert found(report, "dns-records", "warn", "origin.example.com. A")
    assert not found(report, "dns-records", "pass")
