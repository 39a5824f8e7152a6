"""Build: the package, with its hot-path modules compiled by mypyc (docs/architecture.md).

The modules listed under [tool.originguard.compiled] in pyproject.toml are ordinary typed Python;
mypyc turns them into C extensions, which takes the per-request interpreter overhead of the HTTP
engine, the gate, the edge and the cache out of the hot paths (measured: a gate deny costs half
the instructions). `make` builds them with the venv's mypy (`pip install --no-build-isolation`).
Where mypyc is not importable (an isolated `pip install .`), or ORIGINGUARD_PURE=1 is set, the
package installs as plain Python: same behaviour, slower.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent


def compiled_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [f"src/originguard/{path}" for path in config["tool"]["originguard"]["compiled"]]


def extensions() -> list[object]:
    if os.environ.get("ORIGINGUARD_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("originguard: mypyc is not installed, building pure Python (slower)", file=sys.stderr)
        return []
    return list(mypycify(compiled_modules(), opt_level="3"))


setup(ext_modules=extensions())
