"""The CLI as users call it: exit codes 0/1/2, one-line errors, no traceback, no secret."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from typer.testing import CliRunner

from originguard.cli import app

runner = CliRunner()
DATA = Path(__file__).resolve().parents[2] / "data"


def test_check_of_a_bad_config_exits_2_with_file_and_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("gate:\n  listeners:\n    - {port: 127.0.0.1:1, protocol: ftp}\n")
    result = runner.invoke(app, ["check", "-c", str(bad)])
    assert result.exit_code == 2
    assert f"error: {bad}: gate.listeners[0].protocol:" in result.output
    assert "Traceback" not in result.output


def ours(tmp_path: Path) -> Path:
    """Our fixture configs with their secret files at 0600 (git does not keep file modes)."""
    target = tmp_path / "ours"
    shutil.copytree(DATA / "audit" / "ours", target)
    for secret in (target / "secrets").iterdir():
        secret.chmod(0o600)
    return target


def test_check_exits_1_on_findings_and_0_when_clean(tmp_path: Path) -> None:
    configs = ours(tmp_path)
    env = {"OG_TEST_OTHER_SECRET": "q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3j2k1l0zx"}
    insecure = runner.invoke(app, ["check", "-c", str(configs / "insecure.yaml"), "--json"], env=env)
    assert insecure.exit_code == 1
    assert json.loads(insecure.stdout)["ok"] is False
    secure = runner.invoke(app, ["check", "-c", str(configs / "secure.yaml")])
    assert secure.exit_code == 0, secure.output
    value = (configs / "secrets" / "prod-verify").read_text().strip()
    assert value not in insecure.output + secure.output


def test_audit_of_cloud_exports_exits_1_on_a_bypass(tmp_path: Path) -> None:
    audit_data = DATA / "audit"
    result = runner.invoke(
        app, ["audit", str(audit_data / "cloudfront-get-distribution-config-insecure.json"), "--json"]
    )
    assert result.exit_code == 1 and json.loads(result.stdout)["ok"] is False
    secure = runner.invoke(
        app,
        [
            "audit",
            str(audit_data / "cloudfront-get-distribution-config-secure.json"),
            str(audit_data / "elbv2-describe-listeners-secure.json"),
            str(audit_data / "elbv2-describe-rules-secure.json"),
        ],
    )
    assert secure.exit_code == 0, secure.output
    assert "k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2" not in result.output + secure.output


def test_audit_skips_a_file_that_is_not_an_export_and_exits_2_only_when_nothing_was_read() -> None:
    audit_data = DATA / "audit"
    unknown = str(audit_data / "ec2-describe-instances.json")
    mixed = runner.invoke(
        app, ["audit", unknown, str(audit_data / "cloudfront-get-distribution-config-secure.json"), "--json"]
    )
    assert mixed.exit_code == 1  # audited, but one input was skipped: not a clean pass
    doc = json.loads(mixed.stdout)
    assert [e for e in doc["errors"] if "not an export originguard reads" in e]
    assert any(f["check"] == "origin-https-only" for f in doc["findings"])
    assert f"error: {unknown}: not an export" in mixed.stderr
    nothing = runner.invoke(app, ["audit", unknown, "--json"])
    assert nothing.exit_code == 2 and json.loads(nothing.stdout)["errors"]
    assert "Traceback" not in mixed.output + nothing.output


def test_secret_new_writes_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "s" / "origin-verify"
    first = runner.invoke(app, ["secret", "new", str(path)])
    assert first.exit_code == 0
    value = path.read_text().strip()
    assert len(value) == 40 and value not in first.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = runner.invoke(app, ["secret", "new", str(path)])
    assert again.exit_code == 2 and path.read_text().strip() == value


def test_waf_import_maps_a_cloud_export_and_lists_what_it_cannot(tmp_path: Path) -> None:
    result = runner.invoke(app, ["waf", "import", str(DATA / "audit" / "wafv2-secure.json")])
    assert result.exit_code == 0
    assert "waf:" in result.stdout and "web_acls:" in result.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    failed = runner.invoke(app, ["waf", "import", str(broken)])
    assert failed.exit_code == 2 and "cannot read a JSON web ACL" in failed.output


def test_export_k8s_uses_a_placeholder_unless_asked_to_reveal(tmp_path: Path) -> None:
    secure = ours(tmp_path) / "secure.yaml"
    value = (secure.parent / "secrets" / "prod-verify").read_text().strip()
    hidden = runner.invoke(app, ["export", "k8s", "-c", str(secure)])
    assert hidden.exit_code == 0, hidden.output
    assert "alb.ingress.kubernetes.io/conditions." in hidden.stdout and "${" in hidden.stdout
    assert value not in hidden.stdout
    revealed = runner.invoke(app, ["export", "cloudfront", "-c", str(secure), "--reveal-secret"])
    assert revealed.exit_code == 0 and value in revealed.stdout
    assert runner.invoke(app, ["export", "nomad", "-c", str(secure)]).exit_code == 2
