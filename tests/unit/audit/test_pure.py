"""The audit modules are pure: no asyncio, socket, ssl, time or logging (CONTRIBUTING.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import originguard.audit

FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging"}


def test_audit_modules_import_no_io_or_clock() -> None:
    package = Path(originguard.audit.__file__).parent
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not names & FORBIDDEN, f"{module.name} imports {names & FORBIDDEN}"
