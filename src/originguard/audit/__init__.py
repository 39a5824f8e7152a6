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
from originguard.errors import ConfigError

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
    """Audit exported CloudFront/ELBv2/WAFv2/Ingress/Route 53 files together.

    A file that cannot be read or is not an export is skipped and named in `Report.errors`; the
    others are still audited. A path given twice (by any spelling) is read once.
    """
    facts, elb = Facts(), ElbParts()
    errors: list[str] = []
    seen: set[Path] = set()
    read = 0
    for path in paths:
        identity = path.resolve()
        if identity in seen:
            continue
        seen.add(identity)
        try:
            file_facts, file_elb = read_file(path)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        facts.merge(file_facts)
        elb.merge(file_elb)
        read += 1
    if elb:
        try:
            facts.merge(audit_elbv2(elb))
        except ConfigError as exc:  # a malformed rule or action: the load balancer part is lost
            errors.append(str(exc))
    cross_check(facts)
    return Report(tuple(facts.findings), tuple(errors), read)
