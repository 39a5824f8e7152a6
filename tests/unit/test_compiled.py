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
