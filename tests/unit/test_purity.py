"""Sans-IO modules import no asyncio, socket, ssl, time or logging (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import originguard

FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "uvloop", "selectors"}
ROOT = Path(originguard.__file__).parent
PURE_MODULES = [
    "gate/rules.py",
    "proxy/patterns.py",
    "gate/health.py",
    "gate/targets.py",
    "http/request_checks.py",
    "http/headers.py",
    "http/field_names.py",
    "secrets.py",
    "rotation.py",
    "stack/plan.py",
    "edge/behaviors.py",
    "edge/viewer.py",
    "edge/signing.py",
]
PURE_MODULES += [str(p.relative_to(ROOT)) for p in (ROOT / "cache").glob("policy*.py")]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_io(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{module} imports {imported & FORBIDDEN}"
