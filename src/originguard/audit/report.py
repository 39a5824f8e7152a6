"""Findings and the report that holds them: JSON for machines, an aligned table for terminals."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Final, Literal

import orjson

Severity = Literal["pass", "fail", "warn", "info"]

# fail = bypass or exposed secret, warn = weaker than intended, info = not visible from the input.
SEVERITY_ORDER: Final[dict[str, int]] = {"fail": 0, "warn": 1, "info": 2, "pass": 3}


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one check on one resource field, with why and what to do."""

    check: str
    severity: Severity
    resource: str
    field: str
    message: str
    fix: str = ""

    @property
    def where(self) -> str:
        """`resource: field`, the way users search their files for it."""
        return f"{self.resource}: {self.field}" if self.field else self.resource


@dataclass(frozen=True, slots=True)
class Report:
    """The findings of one `audit` or `check` run; `ok` is False when any finding fails.

    `errors` are `FILE: problem` lines for inputs that were skipped (unreadable, not an export);
    `files_read` counts the inputs that were audited (the CLI exits 2 when it is 0).
    """

    findings: tuple[Finding, ...]
    errors: tuple[str, ...] = ()
    files_read: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing fails and no input was skipped (the CLI exits 0), warnings included."""
        return not self.errors and not any(f.severity == "fail" for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Number of findings per severity, every severity present."""
        counted: Counter[str] = Counter(f.severity for f in self.findings)
        return {severity: counted[severity] for severity in SEVERITY_ORDER}

    def sorted(self) -> list[Finding]:
        """Failures first, then warnings, info and passes; discovery order within each."""
        return sorted(self.findings, key=lambda f: SEVERITY_ORDER[f.severity])

    def to_json(self) -> str:
        """The report as a JSON document: ok, counts and every finding."""
        doc = {
            "ok": self.ok,
            "counts": self.counts(),
            "findings": [asdict(f) for f in self.sorted()],
            "errors": list(self.errors),
        }
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()

    def render_table(self) -> str:
        """Plain-text table: severity, check and location aligned, message and fix indented below."""
        rows = self.sorted()
        skipped = [f"skipped: {error}" for error in self.errors]
        if not rows:
            return "\n".join([*skipped, "no findings (no input was recognised)"]) + "\n"
        sev_width = max(len("SEVERITY"), *(len(f.severity) for f in rows))
        check_width = max(len("CHECK"), *(len(f.check) for f in rows))
        indent = " " * (sev_width + check_width + 4)
        lines = [f"{'SEVERITY':<{sev_width}}  {'CHECK':<{check_width}}  WHERE"]
        for finding in rows:
            lines.append(
                f"{finding.severity.upper():<{sev_width}}  {finding.check:<{check_width}}  {finding.where}"
            )
            lines.append(f"{indent}{finding.message}")
            if finding.fix and finding.severity != "pass":
                lines.append(f"{indent}fix: {finding.fix}")
        counts = self.counts()
        summary = ", ".join(f"{counts[s]} {s}" for s in SEVERITY_ORDER)
        if skipped:
            summary += f", {len(skipped)} file(s) skipped"
        lines += ["", *skipped] if skipped else []
        lines.append("")
        lines.append(f"{summary}: {'OK' if self.ok else 'FAILED'}")
        return "\n".join(lines) + "\n"
