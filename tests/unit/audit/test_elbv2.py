"""ELBv2 checks over describe-load-balancers / -listeners / -rules / -ssl-policies output, one file each."""

from __future__ import annotations

from .audit_helpers import audit, found

CF_SECURE = "cloudfront-get-distribution-config-secure.json"
SECURE_LISTENERS = "elbv2-describe-listeners-secure.json"


def test_reference_insecure_alb_fails_each_problem() -> None:
    report = audit(
        "cloudfront-get-distribution-config-insecure.json",
        "elbv2-describe-listeners-insecure.json",
        "elbv2-describe-rules-insecure.json",
    )
    assert found(report, "no-http-listener", "fail", "Listeners[0](port 80).Protocol")
    assert found(report, "default-fixed-response", "fail", "Listeners[1](port 443).DefaultActions")
    assert found(report, "header-condition", "fail", "Rules[0](priority 1)")
    assert found(
        report, "header-condition", "fail", "Rules[1](priority 2).Conditions[0].HttpHeaderConfig.Values[0]"
    )
    assert not report.ok


def test_header_less_rule_at_higher_priority_is_a_bypass() -> None:
    report = audit(
        CF_SECURE, "elbv2-describe-listeners-headerless.json", "elbv2-describe-rules-headerless.json"
    )
    [bypass] = found(report, "header-condition", "fail", "Rules[0](priority 1)")
    assert "bypass" in bypass.message
    assert found(report, "header-condition", "pass", "Rules[1](priority 10)")


def test_rule_on_another_header_is_a_bypass_when_cloudfront_header_is_known() -> None:
    report = audit(
        CF_SECURE, "elbv2-describe-listeners-headerless.json", "elbv2-describe-rules-headerless.json"
    )
    [other] = found(report, "header-condition", "fail", "Rules[2](priority 20)")
    assert "X-Requested-With" in other.message


def test_default_404_warns_and_default_ssl_policy_warns() -> None:
    report = audit("elbv2-describe-listeners-headerless.json")
    assert found(report, "default-fixed-response", "warn", "Listeners[0](port 443).DefaultActions")
    assert "TLSv1, TLSv1.1" in found(report, "tls-minimum", "warn", "SslPolicy")[0].message


def test_mid_rotation_two_values_pass_and_authenticate_then_forward_counts_as_forward() -> None:
    report = audit(
        "cloudfront-get-distribution-rotation.json",
        "elbv2-describe-listeners-rotation.json",
        "elbv2-describe-rules-rotation.json",
    )
    assert report.ok
    assert found(report, "header-condition", "pass", "Rules[0](priority 5)")
    assert len(found(report, "secret-match", "pass")) == 2
    assert not found(report, "header-condition", "warn")


def test_cloudfront_value_missing_from_alb_values_fails() -> None:
    report = audit(
        "cloudfront-get-distribution-config-match-viewer.json",
        SECURE_LISTENERS,
        "elbv2-describe-rules-secure.json",
    )
    assert found(report, "secret-match", "fail", "CustomHeaders.Items[0](X-Origin-Verify).HeaderValue")
    assert found(report, "secret-match", "fail", "Rules[0](priority 10).Conditions[0].HttpHeaderConfig")


def test_three_values_warn_and_wide_regex_fails_and_anchored_literal_passes() -> None:
    report = audit(CF_SECURE, "elbv2-describe-rules-query-values-regex.json")  # --query Rules: a bare list
    assert found(report, "header-condition", "warn", "[0](priority 1).Conditions[0].HttpHeaderConfig")
    assert found(
        report, "header-condition", "fail", "[2](priority 3).Conditions[0].HttpHeaderConfig.RegexValues[0]"
    )
    assert found(report, "header-condition", "pass", "[1](priority 2)")
    assert found(report, "default-fixed-response", "fail", "[3](priority default).Actions")


def test_rules_without_listeners_say_http_listeners_are_not_visible() -> None:
    assert found(audit("elbv2-describe-rules-query-values-regex.json"), "no-http-listener", "info")


def test_redirect_only_http_listener_fails_check_2_saying_why() -> None:
    report = audit("elbv2-describe-listeners-http-redirect.json")
    [http] = found(report, "no-http-listener", "fail", "Listeners[0](port 80).Protocol")
    assert "only redirects" in http.message and "clear text" in http.message
    assert not found(report, "no-http-listener", "warn")
    assert not report.ok


def test_security_groups_are_checked() -> None:
    report = audit("ec2-describe-security-groups-open.json")
    assert found(
        report, "no-http-listener", "fail", "SecurityGroups[0](sg-0123456789abcdef0).IpPermissions[0]"
    )
    assert found(report, "network", "warn", "SecurityGroups[0](sg-0123456789abcdef0).IpPermissions[1]")
    assert found(report, "network", "pass", "SecurityGroups[1](sg-0456789abcdef0123).IpPermissions[0]")


def test_ssl_policy_protocols_come_from_describe_ssl_policies() -> None:
    report = audit("elbv2-describe-listeners-http-redirect.json", "elbv2-describe-ssl-policies.json")
    [weak] = found(report, "tls-minimum", "warn", "SslPolicy")
    assert "Custom-Policy-2024 allows TLSv1.1" in weak.message


def test_header_rule_that_redirects_or_answers_200_fails_check_3() -> None:
    report = audit(CF_SECURE, SECURE_LISTENERS, "elbv2-describe-rules-header-no-forward.json")
    [redirect] = found(report, "header-condition", "fail", "Rules[0](priority 10).Actions")
    assert "ends in redirect, not forward" in redirect.message
    [fixed] = found(report, "header-condition", "fail", "Rules[1](priority 20).Actions")
    assert "a fixed 200" in fixed.message
    assert not report.ok


def test_listener_without_describe_rules_output_says_its_rules_were_not_checked() -> None:
    report = audit(CF_SECURE, SECURE_LISTENERS, "elbv2-describe-rules-query-values-regex.json")
    assert found(report, "header-condition", "info", "Listeners[0](port 443)")


def test_rules_of_a_listener_missing_from_describe_listeners_are_still_checked() -> None:
    report = audit(
        CF_SECURE,
        SECURE_LISTENERS,
        "elbv2-describe-rules-secure.json",
        "elbv2-describe-rules-unlisted-listener.json",
    )
    [default] = found(
        report, "default-fixed-response", "fail", "unlisted-listener.json: Rules[1](priority default)"
    )
    assert "forwards" in default.message
    assert found(report, "no-http-listener", "info", "listener/app/web/50dc6c495c0c9188/0e3f5a7c9b1d2e4f")
    assert not report.ok


def test_wildcard_value_matches_any_value_and_is_not_a_rotation_problem() -> None:
    report = audit(CF_SECURE, SECURE_LISTENERS, "elbv2-describe-rules-wildcard.json")
    [wildcard] = found(report, "header-condition", "fail", "Rules[0](priority 10).Conditions[0]")
    assert "matches any value: the header proves nothing" in wildcard.message
    assert not found(report, "secret-match", "fail")
    assert "rotation" not in report.render_table()


def test_describe_load_balancers_is_read_and_names_what_is_missing() -> None:
    report = audit("elbv2-describe-load-balancers.json")
    assert report.files_read == 1 and not report.errors
    assert found(report, "network", "info", "LoadBalancers[0](web).SecurityGroups")
    assert found(report, "no-http-listener", "info", "LoadBalancers[0](web)")
    full = audit(
        "elbv2-describe-load-balancers.json",
        SECURE_LISTENERS,
        "elbv2-describe-rules-secure.json",
        "ec2-describe-security-groups-secure.json",
    )
    assert not found(full, "no-http-listener", "info") and not found(full, "network", "info")


def test_listener_whose_rules_forward_nothing_fails_check_3() -> None:
    report = audit(CF_SECURE, SECURE_LISTENERS, "elbv2-describe-rules-default-only.json")
    [nothing] = found(report, "header-condition", "fail", "Listeners[0](port 443)")
    assert "nothing reaches the app" in nothing.message
