"""The WAF core is sans-IO: its modules import no asyncio, socket, ssl, time or logging."""

from __future__ import annotations

import ast
from pathlib import Path

import originguard.waf

FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "random"}


def test_waf_modules_import_nothing_that_does_io_or_reads_the_clock() -> None:
    package = Path(originguard.waf.__file__).parent
    for module in sorted(package.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{module.name} imports {name}"
