"""The package's import graph has no cycles and no import that points up the layers.

Run as `python -m originguard.devtools.layers [SRC_PACKAGE_DIR]`: it reads every module with `ast`
(nothing is imported, so a broken module cannot hide its imports), prints each cycle as a module
path `a → b → a` and each import that breaks a rule in RULES, and exits 1 if there is any.

Which imports count: every `import` and `from ... import` statement anywhere in a module —
top level, inside functions, and under `if TYPE_CHECKING:`. A function-level import is a deferred
import, not a missing one: moving an import into a function is the usual way to hide a circle
without removing it. A TYPE_CHECKING import is still knowledge of the other module's types, and
mypyc compiles against it. `from pkg import name` counts as an import of `pkg.name` when that is a
module, else of `pkg` (its __init__); relative imports are resolved against the importer's package.
Each edge remembers whether it runs at import time, in a function, or only for the type checker,
so the purity check (tests/unit/test_purity.py) can follow what really runs.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

ROOT_PACKAGE = "originguard"


class When(Enum):
    """When an import statement runs."""

    MODULE = "module"  # at import time of the importer
    FUNCTION = "function"  # when a function or method that holds it is called
    TYPE_CHECKING = "type-checking"  # never at runtime: under `if TYPE_CHECKING:`


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's target, as a dotted module name (internal or not)."""

    target: str
    line: int
    when: When


@dataclass(frozen=True, slots=True)
class Rule:
    """Modules under `importer` must not import modules under any of `forbidden`.

    Names are dotted and relative to the root package ("" is the root package, "http" is
    originguard.http and everything below it). `allowed` names importers under `importer` that
    are exempt, with the reason in the rule's comment.
    """

    importer: str
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[str, ...] = ()


# The layers, lowest first: errors and http, then proxy, then edge and gate, with cli and stack on
# top of everything. A lower layer never knows about a higher one, so each can be changed, tested
# and compiled (mypyc) without the ones above it.
RULES: tuple[Rule, ...] = (
    # errors is the floor: every layer raises its exceptions, so it may depend on nobody.
    Rule("errors", ("",), "errors is the lowest layer: it imports nothing from the package"),
    # http is the protocol engine both edge and gate run on; it takes its limits as data
    # (http.limits) instead of reading the gate's config, so it cannot be tied to one product.
    Rule(
        "http",
        ("proxy", "edge", "gate", "dns", "cluster", "config.gate", "cli", "stack"),
        "http is the bottom HTTP layer: it must not know the proxy, edge, gate, DNS, cluster "
        "or the gate's config",
    ),
    # proxy holds what every HTTP proxy needs (prebuilt responses, patterns, framing); edge and
    # gate are two such proxies, so proxy must not know either of them.
    Rule("proxy", ("edge", "gate", "dns", "cluster", "cli", "stack"), "proxy sits below edge and gate"),
    # The edge reaches the gate only over HTTP, and the DNS router only by its reports; a shared
    # helper belongs in proxy (or another lower module), not in the sibling.
    Rule("edge", ("gate", "dns", "cli", "stack"), "edge must not import gate or dns"),
    # The gate is the origin's side: it knows nothing of the edge that calls it.
    Rule("gate", ("edge", "dns", "cli", "stack"), "gate must not import edge or dns"),
    # cli is the entry point: only `python -m originguard` (__main__) starts it.
    Rule("", ("cli",), "nothing imports cli except __main__", allowed=("__main__", "cli")),
    # stack runs the whole set of processes; it sits on top of everything it starts, and only the
    # commands (cli, __main__) start it.
    Rule(
        "",
        ("stack",),
        "nothing imports stack except cli and __main__",
        allowed=("__main__", "cli", "stack"),
    ),
)

# Packages that may depend on each other in one direction only; the direction is free, both is a
# circle between packages even when no two modules form one.
ONE_WAY: tuple[tuple[str, str], ...] = (
    # The DNS router uses the cluster link to share health; the cluster must not call back into
    # DNS (what both need, e.g. RTT reports, lives in a module below both).
    ("dns", "cluster"),
)

# Packages whose internal cycles are reported but do not fail the check (each with its reason).
# Nothing here excuses an import across packages: only cycles with every module inside.
# None at present; an entry needs a reason and a plan to remove it.
TOLERATED_CYCLES_UNDER: tuple[str, ...] = ()


@dataclass(slots=True)
class Graph:
    """Internal modules (dotted, absolute) and the imports each one makes."""

    modules: dict[str, Path] = field(default_factory=dict)
    imports: dict[str, list[Import]] = field(default_factory=dict)

    def internal_edges(self, when: Iterable[When] = tuple(When)) -> dict[str, set[str]]:
        """Each module's internal import targets, counting only imports that run `when`."""
        kinds = set(when)
        return {
            name: {i.target for i in imports if i.target in self.modules and i.when in kinds}
            for name, imports in self.imports.items()
        }


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def build_graph(root: Path) -> Graph:
    """Parse every module of the package at `root` (the directory of its __init__.py)."""
    graph = Graph()
    for path in sorted(root.rglob("*.py")):
        graph.modules[module_name(root, path)] = path
    for name, path in graph.modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), filename=str(path))
        graph.imports[name] = list(_imports(tree, package, set(graph.modules)))
    return graph


def _imports(tree: ast.Module, package: str, modules: set[str]) -> Iterator[Import]:
    for node, when in _walk(tree, When.MODULE):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno, when)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(submodule if submodule in modules else base, node.lineno, when)


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _walk(node: ast.AST, when: When) -> Iterator[tuple[ast.AST, When]]:
    """Every node with when its code runs: under TYPE_CHECKING wins over in a function."""
    for child in ast.iter_child_nodes(node):
        inner = when
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and when is When.MODULE:
            inner = When.FUNCTION
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield child, when
            for statement in child.body:
                yield statement, When.TYPE_CHECKING
                yield from _walk(statement, When.TYPE_CHECKING)
            for statement in child.orelse:
                yield statement, when
                yield from _walk(statement, when)
            continue
        yield child, inner
        yield from _walk(child, inner)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Cycles covering every import inside each strongly connected component.

    Listing every elementary cycle can be exponential; instead, for each import a → b that lies
    on some cycle and is not yet shown, the shortest path back b → … → a is printed. Every import
    that takes part in a circle thus appears in at least one listed cycle.
    """
    found: list[list[str]] = []
    for component in _components(edges):
        covered: set[tuple[str, str]] = set()
        for source in sorted(component):
            for target in sorted(edges[source] & component):
                if (source, target) in covered:
                    continue
                back = _shortest_path(edges, target, source, component)
                cycle = [source, *back]
                covered.update(itertools.pairwise(cycle))
                found.append(cycle)
    return found


def _components(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with a cycle in them (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[set[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    result.append(component)
    return result


def _shortest_path(edges: dict[str, set[str]], start: str, goal: str, within: set[str]) -> list[str]:
    """start → … → goal inside `within` (breadth first; it exists since both share a component)."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for child in sorted(edges[node] & within):
            if child not in previous:
                previous[child] = node
                queue.append(child)
    path: list[str] = []
    step: str | None = goal
    while step is not None:
        path.append(step)
        step = previous[step]
    return path[::-1]


@dataclass(frozen=True, slots=True)
class Violation:
    importer: str
    target: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.target}: {self.why}"


def _under(name: str, prefix: str) -> bool:
    """`name` (relative to the root package) is `prefix` or below it; "" is everything."""
    return prefix == "" or name == prefix or name.startswith(prefix + ".")


def _relative(name: str, root_package: str) -> str:
    return "" if name == root_package else name.removeprefix(root_package + ".")


def violations(graph: Graph, root_package: str, rules: Sequence[Rule] = RULES) -> list[Violation]:
    """Imports that break a rule, then package pairs in ONE_WAY that import each other."""
    found: list[Violation] = []
    package_edges: dict[tuple[str, str], tuple[str, Import]] = {}
    for importer, imports in sorted(graph.imports.items()):
        source = _relative(importer, root_package)
        for item in imports:
            if item.target not in graph.modules:
                continue
            target = _relative(item.target, root_package)
            for rule in rules:
                if not _under(source, rule.importer) or any(_under(source, a) for a in rule.allowed):
                    continue
                violation = Violation(importer, item.target, item.line, rule.why)
                if any(_under(target, f) for f in rule.forbidden) and violation not in found:
                    found.append(violation)
            package_edges.setdefault((source.split(".")[0], target.split(".")[0]), (importer, item))
    for first, second in ONE_WAY:
        there, back = package_edges.get((first, second)), package_edges.get((second, first))
        if there is not None and back is not None:
            why = f"{first} and {second} import each other (one way only); the other way: {there[0]}"
            found.append(Violation(back[0], back[1].target, back[1].line, why))
    return found


def tolerated(cycle: Sequence[str], root_package: str) -> bool:
    return any(
        all(_under(_relative(m, root_package), prefix) for m in cycle) for prefix in TOLERATED_CYCLES_UNDER
    )


def report(root: Path) -> tuple[list[str], list[str]]:
    """(problems, tolerated cycles), each as lines of text; no problems means the tree is clean."""
    graph = build_graph(root)
    root_package = root.name
    problems: list[str] = []
    known: list[str] = []
    for cycle in cycles(graph.internal_edges()):
        (known if tolerated(cycle, root_package) else problems).append("cycle: " + " → ".join(cycle))
    problems += ["upward import: " + str(v) for v in violations(graph, root_package)]
    return problems, known


def main(argv: Sequence[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[1]
    problems, known = report(root)
    for line in known:
        print("tolerated " + line, file=sys.stderr)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} layering problem(s) in {root}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def runtime_imports(graph: Graph, start: str) -> dict[str, list[str]]:
    """Every module importing `start` can run, with the chain of modules that leads to it.

    Followed: imports at module level and inside functions (a function may be called), and the
    packages above each module reached (importing `a.b.c` runs `a` and `a.b` first). Not followed:
    imports under TYPE_CHECKING, which never run. External modules are keyed by their full
    dotted name and are not followed further.
    """
    chains: dict[str, list[str]] = {start: [start]}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        targets = [i.target for i in graph.imports.get(module, []) if i.when is not When.TYPE_CHECKING]
        targets += _packages_above(module, graph)
        for target in targets:
            if target in chains:
                continue
            chains[target] = [*chains[module], target]
            if target in graph.modules:
                queue.append(target)
    return chains


def _packages_above(module: str, graph: Graph) -> list[str]:
    parts = module.split(".")
    return [name for name in (".".join(parts[:n]) for n in range(1, len(parts))) if name in graph.modules]
