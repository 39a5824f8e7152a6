"""Ingress (AWS Load Balancer Controller) checks over whole IngressGroups."""

from __future__ import annotations

from .audit_helpers import audit, found

ANN = "metadata.annotations[alb.ingress.kubernetes.io"


def test_reference_secure_ingress_with_cloudfront_has_no_problem() -> None:
    report = audit("cloudfront-get-distribution-config-secure.json", "ingress-secure.yaml")
    assert [f for f in report.findings if f.severity in ("fail", "warn")] == []
    assert found(report, "default-fixed-response", "pass", "Ingress(shop/web).spec.defaultBackend")
    assert found(report, "header-condition", "pass", "Ingress(shop/web).spec.rules[0].http.paths[0](/)")
    assert found(report, "secret-match", "pass")


def test_reference_insecure_ingress_fails_each_problem() -> None:
    report = audit("ingress-insecure.yaml")
    assert found(report, "no-http-listener", "fail", f"{ANN}/listen-ports]")
    assert found(report, "default-fixed-response", "fail", "spec.defaultBackend")
    assert found(report, "header-condition", "fail", "paths[1](/metrics)")
    assert found(report, "header-condition", "warn", f"{ANN}/conditions.webapp]")
    assert found(report, "tls-minimum", "warn", "ssl-policy")


def test_group_in_a_kind_list_merges_ports_and_catches_the_misspelt_conditions_key() -> None:
    report = audit("ingress-group-list.json")
    assert found(report, "no-http-listener", "fail", "Ingress(shop/shop)")
    assert found(report, "header-condition", "warn", f"Ingress(shop/shop).{ANN}/conditions.shop-api]")
    assert found(report, "header-condition", "fail", "Ingress(shop/shop).spec.rules[0].http.paths[0](/api)")


def test_annotation_json_keys_are_case_insensitive() -> None:
    report = audit("ingress-group-list.json")
    assert found(report, "header-condition", "pass", "Ingress(web/front).spec.rules[0].http.paths[0](/)")
    assert found(report, "default-fixed-response", "pass", "Ingress(web/front).spec.defaultBackend")
    assert len(found(report, "secret-strength", "pass")) == 2  # both rotation values, read from "Values"


def test_redirect_action_backend_needs_no_condition() -> None:
    report = audit("ingress-group-list.json")
    assert not [f for f in report.findings if "(/blog)" in f.field]


def test_ssl_redirect_http_listener_fails_check_2_and_tls_section_means_https_default() -> None:
    report = audit("ingress-ssl-redirect.yaml")
    [http] = found(report, "no-http-listener", "fail", "Ingress(default/api)")
    assert "ssl-redirect only" in http.message and "clear text" in http.message
    assert not found(report, "no-http-listener", "warn")
    assert found(report, "no-http-listener", "pass", "Ingress(default/no-ports)")  # its own group
    assert found(report, "default-fixed-response", "warn", "Ingress(default/api).spec.defaultBackend")
    assert found(report, "secret-strength", "warn")  # a UUID value
    [wildcard] = found(report, "header-condition", "fail", "conditions.hello][0].httpHeaderConfig.Values[0]")
    assert "matches any value" in wildcard.message


def test_header_conditioned_path_answering_a_fixed_200_fails_check_3() -> None:
    report = audit("cloudfront-get-distribution-config-secure.json", "ingress-header-fixed-200.json")
    [fixed] = found(report, "header-condition", "fail", "Ingress(shop/status).spec.rules[0].http.paths[0](/)")
    assert "a fixed 200" in fixed.message and "not forward" in fixed.message
    assert not report.ok


def test_ingress_reuse_across_groups_fails() -> None:
    report = audit("ingress-secure.yaml", "ingress-group-list.json")
    assert len(found(report, "secret-reuse", "fail")) == 2
