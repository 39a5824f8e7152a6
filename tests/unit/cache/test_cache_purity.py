"""The cache core is sans-IO: its pure modules import no asyncio, socket, ssl, time or logging."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import originguard.cache

FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "selectors", "uvloop", "threading"}
PACKAGE = Path(originguard.cache.__file__).parent
NOT_PURE = {"collapse.py"}  # the asyncio shell of request collapsing, by design
PURE = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in NOT_PURE)


@pytest.mark.parametrize("module", PURE)
def test_pure_cache_module_imports_no_io_or_clock(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{module} imports {imported & FORBIDDEN}"


def test_package_init_does_not_pull_in_the_asyncio_shell() -> None:
    assert "collapse" not in (PACKAGE / "__init__.py").read_text(encoding="utf-8").split('"""', 2)[2]
