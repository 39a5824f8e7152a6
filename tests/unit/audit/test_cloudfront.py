"""CloudFront distribution checks, alone and against the load balancer exports."""

from __future__ import annotations

from .audit_helpers import audit, found

ORIGIN = "DistributionConfig.Origins.Items[0](gate)"
CF_SECURE = "cloudfront-get-distribution-config-secure.json"
MATCH_VIEWER = "cloudfront-get-distribution-config-match-viewer.json"


def test_reference_secure_distribution_and_alb_have_no_fail_or_warn() -> None:
    report = audit(CF_SECURE, "elbv2-describe-listeners-secure.json", "elbv2-describe-rules-secure.json")
    assert report.ok
    assert [f for f in report.findings if f.severity in ("fail", "warn")] == []
    assert found(report, "origin-https-only", "pass", f"{ORIGIN}.CustomOriginConfig.OriginProtocolPolicy")
    assert found(report, "secret-match", "pass")
    assert found(report, "waf-attached", "pass")


def test_http_only_origin_fails_naming_the_field() -> None:
    report = audit("cloudfront-get-distribution-config-insecure.json")
    [finding] = found(report, "origin-https-only", "fail")
    assert finding.resource.endswith("cloudfront-get-distribution-config-insecure.json")
    assert finding.field == f"{ORIGIN}.CustomOriginConfig.OriginProtocolPolicy"
    assert "clear text" in finding.message


def test_insecure_reference_fails_viewer_protocol_strength_and_warns_waf_and_tls() -> None:
    report = audit("cloudfront-get-distribution-config-insecure.json")
    assert found(report, "viewer-protocol", "fail", "DefaultCacheBehavior.ViewerProtocolPolicy")
    assert found(report, "secret-strength", "fail", "CustomHeaders.Items[0](X-Secret).HeaderValue")
    assert found(report, "waf-attached", "warn", "WebACLId")
    assert found(report, "tls-minimum", "warn", "ViewerCertificate")
    assert found(report, "coverage", "info")


def test_match_viewer_origin_with_allow_all_behaviour_fails() -> None:
    report = audit(MATCH_VIEWER)
    assert found(
        report, "origin-https-only", "fail", "Items[1](legacy).CustomOriginConfig.OriginProtocolPolicy"
    )
    assert found(report, "viewer-protocol", "fail", "CacheBehaviors.Items[0](/legacy/*)")


def test_match_viewer_origin_fails_check_1_even_behind_https_behaviours() -> None:
    report = audit(MATCH_VIEWER)
    [gate] = found(
        report, "origin-https-only", "fail", "Items[0](gate).CustomOriginConfig.OriginProtocolPolicy"
    )
    assert "clear text" in gate.message and "https-only" in gate.message
    assert not found(report, "origin-https-only", "warn")


def test_origin_without_custom_header_fails_and_unreached_origin_is_only_info() -> None:
    report = audit(MATCH_VIEWER)
    assert found(report, "origin-header", "fail", "Items[1](legacy).CustomHeaders")
    assert found(report, "origin-https-only", "info", "Items[2](unused)")
    assert not found(report, "origin-https-only", "fail", "Items[2](unused)")


def test_weak_origin_tls_old_viewer_tls_and_waf_classic_warn() -> None:
    report = audit(MATCH_VIEWER)
    assert found(report, "tls-minimum", "warn", "Items[0](gate).CustomOriginConfig.OriginSslProtocols")
    assert found(report, "tls-minimum", "warn", "ViewerCertificate.MinimumProtocolVersion")
    assert "WAF Classic" in found(report, "waf-attached", "warn")[0].message


def test_get_distribution_form_resolves_origin_groups() -> None:
    report = audit("cloudfront-get-distribution-rotation.json")
    base = "Distribution.DistributionConfig.Origins.Items"
    assert found(report, "origin-https-only", "pass", f"{base}[0](gate-eu)")
    assert found(report, "origin-https-only", "pass", f"{base}[1](gate-us)")
    assert report.ok


def test_https_port_different_from_alb_listener_warns() -> None:
    report = audit(MATCH_VIEWER, "elbv2-describe-listeners-secure.json")
    assert found(report, "origin-port", "warn", "Items[0](gate).CustomOriginConfig.HTTPSPort")


def test_same_value_in_two_distributions_is_reuse() -> None:
    report = audit(CF_SECURE, "cloudfront-get-distribution-dev-reuse.json")
    reuse = found(report, "secret-reuse", "fail")
    assert {f.resource.rsplit("/", 1)[-1] for f in reuse} == {
        CF_SECURE,
        "cloudfront-get-distribution-dev-reuse.json",
    }
    assert all("sha256:" in f.message for f in reuse)


def test_one_value_used_by_two_origins_of_one_distribution_is_not_reuse() -> None:
    assert not found(audit("cloudfront-get-distribution-rotation.json"), "secret-reuse", "fail")
