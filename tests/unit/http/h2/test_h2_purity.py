"""The h2 codec is sans-IO: its modules, and what they import from originguard, touch no I/O or clock."""

from __future__ import annotations

import ast
from pathlib import Path

import originguard

FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "uvloop", "selectors"}
ROOT = Path(originguard.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_h2_codec_imports_no_io_transitively() -> None:
    todo = [p for p in (ROOT / "http" / "h2").glob("*.py")]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imports_of(path):
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
            if name.startswith("originguard."):
                module = ROOT.joinpath(*name.split(".")[1:])
                todo += [p for p in (module.with_suffix(".py"), module / "__init__.py") if p.exists()]
    assert ROOT / "errors.py" in seen
