"""The h2 package is sans-IO: importing any of its modules (codec and connection state machine)
loads no I/O or clock module, through whatever they import (`devtools.layers.runtime_imports`:
imports under TYPE_CHECKING never run, so `http.message`'s annotation of its Body is not followed)."""

from __future__ import annotations

from pathlib import Path

import pytest

import originguard
from originguard.devtools.layers import build_graph, runtime_imports

FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "uvloop", "selectors"}
ROOT = Path(originguard.__file__).parent
MODULES = sorted(p.stem for p in (ROOT / "http" / "h2").glob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_h2_module_loads_no_io_module(module: str) -> None:
    chains = runtime_imports(build_graph(ROOT), f"originguard.http.h2.{module}")
    reached = {t: " → ".join(c) for t, c in chains.items() if t.split(".")[0] in FORBIDDEN}
    assert reached == {}


def test_the_connection_reaches_the_request_type_and_the_error_tree() -> None:
    chains = runtime_imports(build_graph(ROOT), "originguard.http.h2.connection")
    needed = {"originguard.errors", "originguard.http.message", "originguard.http.request_checks"}
    assert needed <= set(chains)
