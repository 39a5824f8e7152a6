"""Audits: over exported cloud configs (`audit`), over our own config (`check`), and exports.

Entry points: `audit_paths(paths) -> Report`, `check_configs(loaded) -> Report`,
`export_k8s(loaded, reveal=False) -> str`, `export_cloudfront(loaded, reveal=False) -> str`.
No report, export (without `reveal`) or error ever shows a secret value: at most a SHA-256 prefix.
"""

from __future__ import annotations

from pathlib import Path

from originguard.audit.crosscheck import cross_check
from originguard.audit.elbv2 import ElbParts, audit_elbv2
from originguard.audit.export import export_cloudfront, export_k8s
from originguard.audit.facts import Facts
from originguard.audit.ours import check_configs
from originguard.audit.report import Finding, Report, Severity
from originguard.audit.sources import read_file

__all__ = [
    "Finding",
    "Report",
    "Severity",
    "audit_paths",
    "check_configs",
    "export_cloudfront",
    "export_k8s",
]


def audit_paths(paths: list[Path]) -> Report:
    """Audit exported CloudFront/ELBv2/WAFv2/Ingress/Route 53 files together (ConfigError if bad)."""
    facts = Facts()
    elb = ElbParts()
    for path in paths:
        facts.merge(read_file(path, elb))
    if elb.listeners or elb.rules or elb.security_groups or elb.ssl_policies:
        facts.merge(audit_elbv2(elb))
    cross_check(facts)
    return Report(tuple(facts.findings))
