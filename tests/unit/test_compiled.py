"""The hot-path modules run compiled (mypyc), and never from a stale build (setup.py)."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPILED = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["originguard"]["compiled"]


@pytest.mark.parametrize("path", COMPILED)
def test_hot_path_module_is_loaded_compiled_from_its_current_source(path: str) -> None:
    module = importlib.import_module("originguard." + path.removesuffix(".py").replace("/", "."))
    loaded = Path(str(module.__file__))
    assert loaded.suffix == ".so", f"{path} runs interpreted: run `make build`"
    source = ROOT / "src" / "originguard" / path
    assert loaded.stat().st_mtime >= source.stat().st_mtime, f"{path} changed since it was compiled"


MARKER = (
    "# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; "
    "rules: docs/architecture.md)."
)


def test_the_modules_that_say_they_are_compiled_are_the_build_list() -> None:
    # The fence: a reader of any module knows from its first line whether mypyc's rules apply.
    package = ROOT / "src" / "originguard"
    marked = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.read_text(encoding="utf-8").partition("\n")[0] == MARKER
    }
    assert marked == set(COMPILED)
