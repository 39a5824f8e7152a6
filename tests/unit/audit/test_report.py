"""The report model: ok means no fail; JSON and table carry every finding."""

from __future__ import annotations

import orjson

from originguard.audit import Finding, Report


def _report() -> Report:
    return Report(
        (
            Finding("origin-https-only", "pass", "cf.json", "Origins.Items[0]", "https-only", ""),
            Finding(
                "no-http-listener",
                "fail",
                "lb.json",
                "Listeners[0](port 80)",
                "an HTTP listener",
                "delete it",
            ),
            Finding(
                "tls-minimum", "warn", "lb.json", "Listeners[1].SslPolicy", "TLS 1.0 allowed", "use TLS13"
            ),
        )
    )


def test_any_fail_makes_the_report_not_ok() -> None:
    assert not _report().ok
    assert Report((Finding("x", "warn", "r", "f", "m", "fix"),)).ok


def test_json_holds_counts_and_findings_failures_first() -> None:
    doc = orjson.loads(_report().to_json())
    assert doc["ok"] is False
    assert doc["counts"] == {"fail": 1, "warn": 1, "info": 0, "pass": 1}
    assert [f["severity"] for f in doc["findings"]] == ["fail", "warn", "pass"]
    assert set(doc["findings"][0]) == {"check", "severity", "resource", "field", "message", "fix"}


def test_table_aligns_columns_and_shows_fixes_for_problems_only() -> None:
    lines = _report().render_table().splitlines()
    assert lines[0].split() == ["SEVERITY", "CHECK", "WHERE"]
    where_column = lines[0].index("WHERE")
    rows = [ln for ln in lines[1:] if ln[:4] in ("FAIL", "WARN", "PASS")]
    assert all(row.index(":") > where_column - 1 for row in rows)
    assert all(row[where_column - 2 : where_column] == "  " for row in rows)
    assert "fix: delete it" in "\n".join(lines)
    assert lines[-1] == "1 fail, 1 warn, 0 info, 1 pass: FAILED"
