"""`export`: the same policy as an Ingress or a CloudFront origin, secrets as placeholders by default."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import yaml

from originguard.audit import audit_paths, export_cloudfront, export_k8s
from originguard.config import LoadedConfig

PREFIX = "alb.ingress.kubernetes.io/"


def test_k8s_export_is_https_only_with_header_conditions_and_a_403_default(
    ours: dict[str, LoadedConfig],
) -> None:
    manifest = yaml.safe_load(export_k8s(ours["secure"]))
    notes = manifest["metadata"]["annotations"]
    assert json.loads(notes[f"{PREFIX}listen-ports"]) == [{"HTTPS": 443}]
    assert notes[f"{PREFIX}ssl-policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    deny = json.loads(notes[f"{PREFIX}actions.deny"])
    assert deny["fixedResponseConfig"]["statusCode"] == "403"
    assert manifest["spec"]["defaultBackend"]["service"] == {
        "name": "deny",
        "port": {"name": "use-annotation"},
    }
    for service in ("app", "api"):
        [condition] = json.loads(notes[f"{PREFIX}conditions.{service}"])
        assert condition["httpHeaderConfig"]["values"] == ["${ORIGIN_VERIFY}"]


def test_k8s_export_passes_our_own_audit(ours: dict[str, LoadedConfig], tmp_path: Path) -> None:
    exported = tmp_path / "ingress.yaml"
    exported.write_text(export_k8s(ours["secure"], reveal=True))
    report = audit_paths([exported])
    assert report.ok, report.render_table()


def test_cloudfront_export_is_https_only_tls12_with_placeholder(ours: dict[str, LoadedConfig]) -> None:
    snippet = orjson.loads(export_cloudfront(ours["secure"]))
    [origin] = snippet["Origins"]["Items"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSslProtocols"]["Items"] == ["TLSv1.2"]
    assert origin["CustomHeaders"]["Items"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": "${ORIGIN_VERIFY}"}
    ]


def test_reveal_inlines_the_current_value_only_when_asked(ours: dict[str, LoadedConfig]) -> None:
    value = ours["secure"].secrets["origin-verify"].current.reveal().decode()
    assert value not in export_cloudfront(ours["secure"]) + export_k8s(ours["secure"])
    assert value in export_cloudfront(ours["secure"], reveal=True)
    assert value in export_k8s(ours["secure"], reveal=True)


def test_env_secret_placeholder_is_the_variable_name(ours: dict[str, LoadedConfig]) -> None:
    assert "${OG_TEST_REDIRECT_SECRET}" in export_k8s(ours["redirect-only"])
