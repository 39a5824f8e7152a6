"""The package has no import cycles and no upward import (originguard.devtools.layers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import originguard
from originguard.devtools.layers import build_graph, report
from tests.support import throwaway_package

ROOT = Path(originguard.__file__).parent


def test_the_real_tree_has_no_cycle_and_no_upward_import() -> None:
    problems, _ = report(ROOT)
    assert problems == []


def test_the_command_exits_zero_on_the_real_tree() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "originguard.devtools.layers", str(ROOT)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_a_cycle_through_a_function_import_is_reported_as_a_path(tmp_path: Path) -> None:
    root = throwaway_package(
        tmp_path,
        {
            "a.py": "from pkg.b import thing\n",
            "b.py": "def thing() -> None:\n    from . import a\n",
        },
    )
    problems, _ = report(root)
    assert problems == ["cycle: pkg.a → pkg.b → pkg.a"]


def test_a_type_checking_import_closes_a_cycle_too(tmp_path: Path) -> None:
    root = throwaway_package(
        tmp_path,
        {
            "a.py": "import pkg.b\n",
            "b.py": """\
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from .a import A
            """,
        },
    )
    problems, _ = report(root)
    assert problems == ["cycle: pkg.a → pkg.b → pkg.a"]


def test_an_upward_import_is_reported_with_its_line(tmp_path: Path) -> None:
    root = throwaway_package(
        tmp_path,
        {
            "http/__init__.py": "",
            "http/wire.py": "\n\nfrom ..edge.app import serve\n",
            "edge/__init__.py": "",
            "edge/app.py": "",
        },
    )
    problems, _ = report(root)
    assert len(problems) == 1
    assert problems[0].startswith("upward import: pkg.http.wire:3 imports pkg.edge.app: http is the bottom")


def test_the_command_exits_non_zero_and_prints_each_problem(tmp_path: Path) -> None:
    root = throwaway_package(
        tmp_path,
        {
            "a.py": "import pkg.b\n",
            "b.py": "import pkg.a\n",
            "workers.py": "from pkg.stack.run import go\n",
            "stack/__init__.py": "",
            "stack/run.py": "",
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "originguard.devtools.layers", str(root)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "cycle: pkg.a → pkg.b → pkg.a",
        "upward import: pkg.workers:1 imports pkg.stack.run: nothing imports stack except cli and __main__",
    ]


def test_dns_and_cluster_may_import_each_other_one_way_only(tmp_path: Path) -> None:
    files = {"dns/__init__.py": "", "dns/server.py": "import pkg.cluster.link\n", "cluster/__init__.py": ""}
    one_way = throwaway_package(tmp_path / "one", {**files, "cluster/link.py": ""})
    assert report(one_way)[0] == []
    both = throwaway_package(tmp_path / "both", {**files, "cluster/link.py": "import pkg.dns\n"})
    assert report(both)[0] == [
        "upward import: pkg.cluster.link:1 imports pkg.dns: dns and cluster import each other "
        "(one way only); the other way: pkg.dns.server"
    ]


def test_each_import_remembers_when_it_runs(tmp_path: Path) -> None:
    root = throwaway_package(
        tmp_path,
        {
            "a.py": """\
                import asyncio
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    import socket
                def later() -> None:
                    import ssl
            """,
        },
    )
    kinds = {item.target: item.when.value for item in build_graph(root).imports["pkg.a"]}
    assert kinds == {"asyncio": "module", "typing": "module", "socket": "type-checking", "ssl": "function"}
