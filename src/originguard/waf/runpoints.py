"""Where the generated evaluator runs rules: the source it is written in, and its run points.

Rules run in priority order, each only when a gate marked it (`pending`) or when it runs on every
request. A run point, before each gate, runs the pending rules that come before the first rule that
gate can mark. Rules that read only the request (rate_based by address) are called at their turn
without a `RequestView`; the view is built only when some rule runs or matches.

`SourceWriter` keeps the source to identifiers, integers and the names (`k0`, `k1`, ...) of objects
passed in the namespace: no config string or request data is ever source text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from originguard.waf.fields import RequestView, SlotFn
from originguard.waf.ratelimit import AddressCounter, Direct
from originguard.waf.request import Match

RunRules = Callable[[int, RequestView], Any]  # run the rules in a mask; a Verdict or None
Matched = Callable[[Match, RequestView], Any]  # a rule matched: a Verdict, or None when it counts
Finish = Callable[[set[str], list[str]], Any]  # the default verdict with labels or counts


@dataclass(frozen=True, slots=True)
class RuleHooks:
    """How the generated function runs rules and ends: the runner, the direct rules, the defaults."""

    run: RunRules
    # Rules run on every request that read only the request (rate_based by address): called inline,
    # with no `RequestView` built unless they match.
    direct: dict[int, tuple[Direct, Matched]]
    finish: Finish
    default: Any  # the verdict when nothing matched or counted
    may_count: bool  # some rule counts: labels and counted rules may remain at the end


INDENT: Final = "    "


class SourceWriter:
    """Source lines and the namespace of the constants they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._names: dict[int, str] = {}  # id(constant) -> its name
        self._keep: list[Any] = []  # keeps constants alive so that their ids stay unique
        self.depth = 0

    def line(self, text: str) -> None:
        self.lines.append(INDENT * self.depth + text)

    def const(self, value: Any) -> str:
        """The namespace name of `value` (an object, never source text)."""
        name = self._names.get(id(value))
        if name is None:
            name = self._names[id(value)] = f"k{len(self._names)}"
            self.constants[name] = value
            self._keep.append(value)
        return name


class RuleWriter(SourceWriter):
    """Writes the run points: which rules may be pending where, and how each runs."""

    def __init__(self, hooks: RuleHooks, fns: tuple[SlotFn, ...]) -> None:
        super().__init__()
        self.hooks = hooks
        self.fns = fns
        self._possible = 0  # rules that may be pending here: always-rules added, gate marks so far
        self._added = 0  # always-rules added to `pending` (or run directly) so far

    def run_point(self, below: int, always: int) -> None:
        """Run the rules in `below` (-1: all) before the next gate, in priority order."""
        joining = always & below & ~self._added
        self._added |= joining
        direct = [index for index in sorted(self.hooks.direct) if joining >> index & 1]
        pooled = joining & ~sum(1 << index for index in direct)
        if pooled:
            self.line(f"pending |= {pooled}")
            self._possible |= pooled
        for index in direct:
            self._run_pending((1 << index) - 1)  # the rules before it first
            self._direct(index)
        self._run_pending(below)

    def _run_pending(self, below: int) -> None:
        if not self._possible & below:
            return  # no gate so far can have marked a rule this early
        run = self.const(self.hooks.run)
        self.line("if pending:")
        self.depth += 1
        if below == -1:
            self._view()
            self.line(f"verdict = {run}(pending, view)")
            self.line("if verdict is not None:")
            self.line("    return verdict")
            self.depth -= 1
            return
        self.line(f"if pending & {below}:")
        self.depth += 1
        self._view()
        self.line(f"verdict = {run}(pending & {below}, view)")
        self.line("if verdict is not None:")
        self.line("    return verdict")
        self.line(f"pending &= {~below}")
        self.depth -= 2
        self._possible &= ~below

    def _direct(self, index: int) -> None:
        direct, matched = self.hooks.direct[index]
        if isinstance(direct, AddressCounter):
            # Written out: the call of the counter itself cost a fifth of the default ACL.
            key = f"({self.const(direct.rule_id)}, (request.client_ip,))"
            self.line(f"estimate = rate.hit({key}, {self.const(direct.window)}, now)")
            self.line(f"if estimate > {self.const(direct.limit)}:")
            self.line(f"    found = {self.const(direct.over)}(request.client_ip, estimate)")
        else:
            self.line(f"found = {self.const(direct)}(request, now, rate)")
            self.line("if found is not None:")
        self.depth += 1
        self._view()
        self.line(f"verdict = {self.const(matched)}(found, view)")
        self.line("if verdict is not None:")
        self.line("    return verdict")
        self.depth -= 1

    def _view(self) -> None:
        """Build the view if no rule has run yet: the slots computed so far are in `cache` already."""
        self.line("if view is None:")
        self.line(f"    view = {self.const(RequestView)}(request, {self.const(self.fns)}, now, rate, cache)")
