"""Helpers for the audit tests: fixture paths and finding lookups (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path

from originguard.audit import Finding, Report, audit_paths

DATA = Path(__file__).resolve().parents[2] / "data" / "audit"

ENV_SECRETS = {
    "OG_TEST_OTHER_SECRET": "z9x8c7v6b5n4m3l2k1j0h9g8f7d6s5a4q3w2e1r0",
    "OG_TEST_REDIRECT_SECRET": "a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6q7w8e9r0",
}


def audit(*names: str) -> Report:
    """Audit fixture files by name."""
    return audit_paths([DATA / name for name in names])


def found(report: Report, check: str, severity: str, where: str = "") -> list[Finding]:
    """Findings of one check and severity whose `resource: field` contains `where`."""
    return [f for f in report.findings if f.check == check and f.severity == severity and where in f.where]
