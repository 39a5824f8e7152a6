"""Input files: kinds come from content; each shape a user produces is read; a bad file is skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from originguard.audit import Report, audit_paths

from .audit_helpers import DATA, audit, found

CF_SECURE = "cloudfront-get-distribution-config-secure.json"


def _error(report: Report) -> str:
    [error] = report.errors
    return error


def test_kind_comes_from_content_not_file_name(tmp_path: Path) -> None:
    renamed = tmp_path / "export.txt"
    shutil.copy(DATA / CF_SECURE, renamed)
    assert any(f.check == "origin-https-only" for f in audit_paths([renamed]).findings)


def test_concatenated_json_objects_are_read_as_one_export(tmp_path: Path) -> None:
    both = tmp_path / "lb.json"
    both.write_text(
        (DATA / "elbv2-describe-listeners-secure.json").read_text()
        + (DATA / "elbv2-describe-rules-secure.json").read_text()
    )
    assert found(audit_paths([both]), "header-condition", "pass", "Rules[0](priority 10)")


def test_describe_load_balancers_is_an_export() -> None:
    report = audit("elbv2-describe-load-balancers.json")
    assert report.files_read == 1 and not report.errors


def test_list_distributions_audits_every_distribution() -> None:
    report = audit("cloudfront-list-distributions.json")
    assert not report.errors
    base = "DistributionList.Items"
    assert found(report, "origin-https-only", "pass", f"{base}[0](E1PRODEXAMPLE).Origins.Items[0](gate)")
    assert found(report, "origin-https-only", "fail", f"{base}[1](E2STAGEEXAMPLE).Origins.Items[0](gate)")


def test_query_listeners_and_query_distribution_config_are_read() -> None:
    report = audit(
        "cloudfront-get-distribution-config-query.json",
        "elbv2-describe-listeners-query.json",
        "elbv2-describe-rules-secure.json",
    )
    assert not report.errors and report.ok
    assert found(
        report, "default-fixed-response", "pass", "listeners-query.json: [0](port 443).DefaultActions"
    )
    assert found(report, "origin-https-only", "pass", "config-query.json: Origins.Items[0](gate)")
    assert found(report, "secret-match", "pass")


def test_query_rules_is_read() -> None:
    report = audit("elbv2-describe-rules-query-values-regex.json")
    assert not report.errors and found(report, "header-condition", "pass", "[1](priority 2)")


def test_cloudformation_origin_custom_headers_are_read_not_ignored() -> None:
    report = audit("cloudformation-distribution.json")
    assert not report.errors
    origin = "Resources.BlogDistribution.Properties.DistributionConfig.Origins[0](blog-alb)"
    assert not found(report, "origin-header", "fail")
    assert found(report, "secret-strength", "pass", f"{origin}.OriginCustomHeaders[0](X-Origin-Verify)")
    assert found(report, "tls-minimum", "pass", f"{origin}.CustomOriginConfig.OriginSSLProtocols")
    assert report.ok


def test_cloudformation_yaml_with_short_form_functions_is_read() -> None:
    report = audit("cloudformation-distribution.yaml")
    assert not report.errors
    base = "Resources.Distribution.Properties.DistributionConfig"
    [referred] = found(report, "origin-header", "info", f"{base}.Origins[0](gate).OriginCustomHeaders[0]")
    assert "!Ref OriginVerify" in referred.message
    [resolved] = found(report, "origin-header", "info", f"{base}.Origins[1](static).OriginCustomHeaders[0]")
    assert "a dynamic reference" in resolved.message
    assert not [f for f in report.findings if f.check == "secret-strength"]  # no value is in the file
    assert found(report, "origin-https-only", "fail", f"{base}.Origins[1](static)")  # match-viewer
    assert found(report, "waf-attached", "pass", f"{base}.WebACLId")
    assert found(report, "coverage", "info", "Resources.GateListener")


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")],
)
def test_bom_and_utf16_files_are_read(tmp_path: Path, encoding: str, bom: bytes) -> None:
    """PowerShell 5's `>` writes UTF-16 LE with a BOM; `Out-File -Encoding utf8` writes a UTF-8 BOM."""
    for name in (CF_SECURE, "elbv2-describe-listeners-secure.json", "elbv2-describe-rules-secure.json"):
        (tmp_path / name).write_bytes(bom + (DATA / name).read_text().encode(encoding))
    report = audit_paths(sorted(tmp_path.iterdir()))
    assert not report.errors and report.files_read == 3
    assert report.ok and found(report, "secret-match", "pass")


def test_yaml_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ingress.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "ingress-secure.yaml").read_bytes())
    assert not audit_paths([path]).errors


def test_a_file_that_is_not_an_export_is_skipped_and_the_others_audited() -> None:
    report = audit("ec2-describe-instances.json", CF_SECURE)
    error = _error(report)
    assert error.startswith(str(DATA / "ec2-describe-instances.json"))
    assert "not an export originguard reads" in error and "Reservations" in error
    assert "describe-rules" in error  # says what was expected
    assert report.files_read == 1 and found(report, "origin-https-only", "pass")
    assert not report.ok  # a skipped file is not a clean audit


def test_the_same_file_given_twice_is_read_once() -> None:
    report = audit(CF_SECURE, CF_SECURE, f"../audit/{CF_SECURE}")
    assert len(found(report, "origin-https-only", "pass")) == 1
    assert report.files_read == 1
    assert not found(report, "secret-reuse", "fail")


def test_json_report_carries_the_errors() -> None:
    doc = json.loads(audit("ec2-describe-instances.json", CF_SECURE).to_json())
    [error] = doc["errors"]
    assert "not an export originguard reads" in error


def test_invalid_json_names_the_file_and_position() -> None:
    error = _error(audit("bad.json"))
    assert error.startswith(str(DATA / "bad.json"))
    assert "invalid JSON" in error and "line 2" in error


def test_invalid_yaml_names_line_and_column() -> None:
    assert "YAML syntax error: line" in _error(audit("bad.yaml"))


def test_wrong_type_inside_a_known_shape_names_the_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "cf.json"
    bad.write_text('{"DistributionConfig": {"Origins": {"Items": {"Id": "x"}}, "DefaultCacheBehavior": {}}}')
    assert f"{bad}: DistributionConfig.Origins.Items: expected a list" in _error(audit_paths([bad]))


def test_bad_annotation_json_names_the_annotation(tmp_path: Path) -> None:
    bad = tmp_path / "ing.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: w\n  annotations:\n"
        "    alb.ingress.kubernetes.io/listen-ports: '[{\"HTTPS\": 443'\nspec: {}\n"
    )
    assert "[alb.ingress.kubernetes.io/listen-ports]: invalid JSON" in _error(audit_paths([bad]))


def test_kubernetes_file_without_ingress_is_an_error(tmp_path: Path) -> None:
    svc = tmp_path / "svc.yaml"
    svc.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
    assert "no Ingress" in _error(audit_paths([svc]))


def test_missing_file_is_reported(tmp_path: Path) -> None:
    report = audit_paths([tmp_path / "nope.json"])
    assert "cannot read" in _error(report) and report.files_read == 0


def test_undecodable_bytes_are_reported(tmp_path: Path) -> None:
    binary = tmp_path / "export.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert "neither UTF-8 nor UTF-16" in _error(audit_paths([binary]))


def test_a_malformed_rule_skips_only_its_file(tmp_path: Path) -> None:
    rules = json.loads((DATA / "elbv2-describe-rules-secure.json").read_text())
    rules["Rules"][0]["Actions"] = []
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps(rules))
    report = audit_paths([DATA / "elbv2-describe-listeners-secure.json", bad])
    assert "Rules[0].Actions: a rule or listener has no actions" in _error(report)
    assert found(report, "default-fixed-response", "pass", "Listeners[0](port 443)")


def test_aws_cli_yaml_output_is_read(tmp_path: Path) -> None:
    """`--output yaml` prints the same fields as YAML."""
    for name in (CF_SECURE, "elbv2-describe-listeners-secure.json", "elbv2-describe-rules-secure.json"):
        doc = json.loads((DATA / name).read_text())
        (tmp_path / name.replace(".json", ".yaml")).write_text(yaml.safe_dump(doc, sort_keys=False))
    report = audit_paths(sorted(tmp_path.iterdir()))
    assert not report.errors and report.ok and found(report, "secret-match", "pass")


def test_cloudformation_get_template_output_is_read() -> None:
    """`aws cloudformation get-template` prints a YAML template as one string in TemplateBody."""
    report = audit("cloudformation-get-template.json")
    assert not report.errors
    base = "TemplateBody.Resources.Distribution.Properties.DistributionConfig"
    assert found(report, "origin-https-only", "pass", f"{base}.Origins[0](gate)")
    assert found(report, "origin-https-only", "fail", f"{base}.Origins[1](static)")


def test_query_web_acl_is_read_as_a_web_acl_not_as_load_balancer_rules(tmp_path: Path) -> None:
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps(json.loads((DATA / "wafv2-count-only.json").read_text())["WebACL"]))
    report = audit_paths([acl])
    assert not report.errors
    assert found(report, "waf-rules", "warn", "WebACL(edge-dryrun).Rules")
