"""ELBv2 listener and rule checks, including the cross-file match with CloudFront."""

from __future__ import annotations

from .audit_helpers import audit, found


def test_reference_insecure_alb_fails_each_problem() -> None:
    report = audit("cloudfront-insecure.json", "elbv2-insecure.json")
    assert found(report, "no-http-listener", "fail", "Listeners[0](port 80).Protocol")
    assert found(report, "default-fixed-response", "fail", "Listeners[1](port 443).DefaultActions")
    assert found(report, "header-condition", "fail", "Rules[0](priority 1)")
    assert found(
        report, "header-condition", "fail", "Rules[1](priority 2).Conditions[0].HttpHeaderConfig.Values[0]"
    )
    assert not report.ok


def test_header_less_rule_at_higher_priority_is_a_bypass() -> None:
    report = audit("cloudfront-secure.json", "elbv2-headerless-priority.json")
    [bypass] = found(report, "header-condition", "fail", "Rules[0](priority 1)")
    assert "bypass" in bypass.message
    assert found(report, "header-condition", "pass", "Rules[1](priority 10)")


def test_rule_on_another_header_is_a_bypass_when_cloudfront_header_is_known() -> None:
    report = audit("cloudfront-secure.json", "elbv2-headerless-priority.json")
    [other] = found(report, "header-condition", "fail", "Rules[2](priority 20)")
    assert "X-Requested-With" in other.message


def test_default_404_warns_and_default_ssl_policy_warns() -> None:
    report = audit("elbv2-headerless-priority.json")
    assert found(report, "default-fixed-response", "warn", "Listeners[0](port 443).DefaultActions")
    assert "TLSv1, TLSv1.1" in found(report, "tls-minimum", "warn", "SslPolicy")[0].message


def test_mid_rotation_two_values_pass_and_authenticate_then_forward_counts_as_forward() -> None:
    report = audit("cloudfront-get-distribution-rotation.json", "elbv2-rotation-combined.json")
    assert report.ok
    assert found(report, "header-condition", "pass", "Rules[0](priority 5)")
    assert len(found(report, "secret-match", "pass")) == 2
    assert not found(report, "header-condition", "warn")


def test_cloudfront_value_missing_from_alb_values_fails() -> None:
    report = audit("cloudfront-match-viewer.json", "elbv2-secure.json")
    assert found(report, "secret-match", "fail", "CustomHeaders.Items[0](X-Origin-Verify).HeaderValue")
    assert found(report, "secret-match", "fail", "Rules[0](priority 10).Conditions[0].HttpHeaderConfig")


def test_three_values_warn_and_wide_regex_fails_and_anchored_literal_passes() -> None:
    report = audit("cloudfront-secure.json", "elbv2-values-regex.json")
    assert found(report, "header-condition", "warn", "Rules[0](priority 1).Conditions[0].HttpHeaderConfig")
    assert found(
        report,
        "header-condition",
        "fail",
        "Rules[2](priority 3).Conditions[0].HttpHeaderConfig.RegexValues[0]",
    )
    assert found(report, "header-condition", "pass", "Rules[1](priority 2)")
    assert found(report, "default-fixed-response", "fail", "Rules[3]")


def test_rules_without_listeners_say_http_listeners_are_not_visible() -> None:
    assert found(audit("elbv2-values-regex.json"), "no-http-listener", "info")


def test_redirect_only_http_listener_warns_and_security_groups_are_checked() -> None:
    report = audit("elbv2-http-redirect-network.json")
    assert found(report, "no-http-listener", "warn", "Listeners[0](port 80).Protocol")
    assert found(report, "no-http-listener", "fail", "SecurityGroups[0](sg-0123).IpPermissions[0]")
    assert found(report, "network", "warn", "SecurityGroups[0](sg-0123).IpPermissions[1]")
    assert found(report, "network", "pass", "SecurityGroups[1](sg-0456).IpPermissions[0]")


def test_ssl_policy_protocols_come_from_describe_ssl_policies() -> None:
    [weak] = found(audit("elbv2-http-redirect-network.json"), "tls-minimum", "warn", "SslPolicy")
    assert "Custom-Policy-2024 allows TLSv1.1" in weak.message
