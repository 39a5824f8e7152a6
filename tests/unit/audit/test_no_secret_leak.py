"""No secret value from any fixture appears in a report (table or JSON) or an error message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from originguard.audit import Report, audit_paths, check_configs
from originguard.audit.network import CLOUDFRONT_PREFIX_LIST
from originguard.audit.sources import EXPECTED
from originguard.config import LoadedConfig

from .audit_helpers import DATA, ENV_SECRETS

# Weak values written in fixtures on purpose. ("X-Origin-Verify", a value equal to its header name,
# is left out: reports name the header, and that is not the leak.)
WEAK_VALUES = ["cloudfront", "cloud*", "secret-2024", "welcome", "0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0"]


def _fixture_secrets() -> set[str]:
    """Every long random-looking token in the fixtures, plus the deliberate weak ones."""
    found = set(WEAK_VALUES) | set(ENV_SECRETS.values())
    for path in DATA.rglob("*"):
        if path.is_file():
            found |= set(re.findall(r"(?<![A-Za-z0-9-])[a-z0-9-]{24,}(?![A-Za-z0-9])", path.read_text()))
    # Keep values only: ARN ids and policy names are not secrets.
    return {v for v in found if "-" not in v or v in WEAK_VALUES or v.startswith("literal-value")}


def _assert_clean(text: str) -> None:
    # The managed prefix list's name contains the word "cloudfront"; it is vocabulary, not a value.
    text = text.replace(CLOUDFRONT_PREFIX_LIST, "").replace(EXPECTED, "")  # so do `aws cloudfront` commands
    for path in DATA.rglob("*"):  # fixture file names (cloudfront-*.json) are not values either
        text = text.replace(path.name, "")
    leaked = sorted(v for v in _fixture_secrets() if v in text)
    assert not leaked, f"secret value(s) leaked: {[v[:4] + '…' for v in leaked]}"


def _outputs(report: Report) -> str:
    return report.render_table() + report.to_json() + repr(report)


def test_fixture_secrets_are_found_at_all() -> None:
    assert "k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2" in _fixture_secrets()
    assert len(_fixture_secrets()) >= 10


def test_no_value_in_audit_output_of_every_good_fixture() -> None:
    names = sorted(p.name for p in DATA.glob("*.*") if not p.name.startswith(("bad", "unknown")))
    _assert_clean(_outputs(audit_paths([DATA / n for n in names])))
    for name in names:
        _assert_clean(_outputs(audit_paths([DATA / name])))


def test_no_value_in_check_output(ours: dict[str, LoadedConfig]) -> None:
    _assert_clean(_outputs(check_configs(list(ours.values()))))
    _assert_clean(repr(ours["secure"]))


@pytest.mark.parametrize(
    "text",
    [
        '{"DistributionConfig": {"Origins": {"Items": [{"HeaderValue": "SECRET" x',
        "kind: Ingress\napiVersion: v1\nmetadata: {annotations: {a: SECRET: :}",
        '{"SECRET": 1}',
        '{"DistributionConfig": {"DefaultCacheBehavior": {}, "Origins": {"Items": ["SECRET"]}}}',
        '["SECRET"]',
        '[{"Priority": "1", "Actions": [{"Type": "forward", "Order": "SECRET"}]}]',
    ],
)
def test_no_value_in_error_messages(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad-input"
    bad.write_text(text.replace("SECRET", "k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"))
    report = audit_paths([bad])
    assert report.errors
    _assert_clean(_outputs(report))
