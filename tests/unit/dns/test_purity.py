"""The sans-IO modules of the DNS router import nothing that does I/O or reads the clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import originguard.dns

PURE = ["cidr", "records", "select", "rtt", "health", "zone", "engine"]
FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "selectors", "threading"}


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io(module: str) -> None:
    path = Path(originguard.dns.__file__).parent / f"{module}.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{module}.py imports {sorted(imported & FORBIDDEN)}"
