"""Ingress (AWS Load Balancer Controller) checks over whole IngressGroups."""

from __future__ import annotations

from .audit_helpers import audit, found

ANN = "metadata.annotations[alb.ingress.kubernetes.io"


def test_reference_secure_ingress_with_cloudfront_has_no_problem() -> None:
    report = audit("cloudfront-secure.json", "ingress-secure.yaml")
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
    report = audit("ingress-group-list.yaml")
    assert found(report, "no-http-listener", "fail", "Ingress(shop/shop)")
    assert found(report, "header-condition", "warn", f"Ingress(shop/shop).{ANN}/conditions.shop-api]")
    assert found(report, "header-condition", "fail", "Ingress(shop/shop).spec.rules[0].http.paths[0](/api)")


def test_annotation_json_keys_are_case_insensitive() -> None:
    report = audit("ingress-group-list.yaml")
    assert found(report, "header-condition", "pass", "Ingress(web/front).spec.rules[0].http.paths[0](/)")
    assert found(report, "default-fixed-response", "pass", "Ingress(web/front).spec.defaultBackend")
    assert len(found(report, "secret-strength", "pass")) == 2  # both rotation values, read from "Values"


def test_redirect_action_backend_needs_no_condition() -> None:
    report = audit("ingress-group-list.yaml")
    assert not [f for f in report.findings if "(/blog)" in f.field]


def test_ssl_redirect_http_listener_warns_and_tls_section_means_https_default() -> None:
    report = audit("ingress-ssl-redirect.yaml")
    assert found(report, "no-http-listener", "warn", "Ingress(default/api)")
    assert found(report, "no-http-listener", "pass", "Ingress(default/no-ports)")  # its own group
    assert found(report, "default-fixed-response", "warn", "Ingress(default/api).spec.defaultBackend")
    assert found(report, "secret-strength", "warn")  # a UUID value
    assert found(report, "header-condition", "fail", "conditions.hello][0].httpHeaderConfig.Values[0]")


def test_ingress_reuse_across_groups_fails() -> None:
    report = audit("ingress-secure.yaml", "ingress-group-list.yaml")
    assert len(found(report, "secret-reuse", "fail")) == 2
