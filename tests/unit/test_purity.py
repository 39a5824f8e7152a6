"""Sans-IO modules import no asyncio, socket, ssl, time or logging (CONTRIBUTING.md), not even through
the modules they import: importing a pure module must not load an I/O module.

The imports are followed transitively with originguard.devtools.layers: module-level and
function-level imports (a function may be called) and the packages above each module reached
(their __init__ runs first); imports under TYPE_CHECKING are not followed, since they never run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import originguard
from originguard.devtools.layers import build_graph, runtime_imports
from tests.support import throwaway_package

FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "uvloop", "selectors"}
ROOT = Path(originguard.__file__).parent
PURE_MODULES = [
    "gate/rules.py",
    "proxy/patterns.py",
    "gate/health.py",
    "gate/targets.py",
    "http/request_checks.py",
    "http/upgrade.py",
    "http/headers.py",
    "http/field_names.py",
    "http/interim.py",
    "secrets.py",
    "rotation/__init__.py",
    "rotation/plan.py",
    "stack/plan.py",
    "edge/behaviors.py",
    "edge/viewer.py",
    "edge/signing.py",
    "edge/compression.py",
    "http/codings.py",
    "edge/fill.py",
    "edge/routing.py",
]
PURE_MODULES += [str(p.relative_to(ROOT)) for p in (ROOT / "cache").glob("policy*.py")]

# Pure modules that still reach an I/O module, each with the chain and why it is left: none today.
# (gate/rules.py reached asyncio through http.message, whose Body now lives in http.body; and
# gate/targets.py reached http.client for an annotation, now under TYPE_CHECKING.)
KNOWN_EXCEPTIONS: dict[str, set[str]] = {}


def io_reached(root: Path, module: str) -> dict[str, str]:
    """Forbidden modules `module` (a path under root) loads, each with the import chain to it."""
    graph = build_graph(root)
    name = ".".join([root.name, *Path(module).with_suffix("").parts])
    chains = runtime_imports(graph, name)
    return {
        target.split(".")[0]: " → ".join(chain)
        for target, chain in sorted(chains.items(), key=lambda item: -len(item[1]))
        if target.split(".")[0] in FORBIDDEN
    }


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_loads_no_io_module(module: str) -> None:
    reached = io_reached(ROOT, module)
    unexpected = {
        name: chain for name, chain in reached.items() if name not in KNOWN_EXCEPTIONS.get(module, set())
    }
    assert not unexpected, f"{module} loads {sorted(unexpected)}: " + "; ".join(unexpected.values())


def test_every_known_exception_is_still_one() -> None:
    for module, names in KNOWN_EXCEPTIONS.items():
        assert names <= set(io_reached(ROOT, module)), f"{module} no longer loads {names}: drop the exception"


def test_io_two_imports_away_is_found_with_its_chain(tmp_path: Path) -> None:
    root = throwaway_package(
        tmp_path,
        {
            "rules.py": "from pkg.message import Request\n",
            "message.py": "def later() -> None:\n    import asyncio\n",
        },
    )
    assert io_reached(root, "rules.py") == {"asyncio": "pkg.rules → pkg.message → asyncio"}


def test_a_package_init_counts_and_type_checking_does_not(tmp_path: Path) -> None:
    root = throwaway_package(
        tmp_path,
        {
            "sub/__init__.py": "import logging\n",
            "sub/pure.py": """\
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    import socket
            """,
        },
    )
    assert io_reached(root, "sub/pure.py") == {"logging": "pkg.sub.pure → pkg.sub → logging"}
