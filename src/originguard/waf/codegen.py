"""One straight-line evaluation function per web ACL, generated from its plan when the ACL compiles.

The planned walk over closures (`view.get(slot)` calling a slot function calling a transform, a gate
closure per slot) spent most of its 60-130 µs on Python calls: ~70 `get`s, 26 gate calls and their
lambdas for ~27 slot values, whatever the request. The generated function does the same steps in the
same order with the calls inlined: each slot value lives in a local variable (and in the view's cache,
so that rules read it instead of computing it again), a transform whose trigger characters (`%`, `&`,
...) are absent from the joined values is skipped by an `in` test, literal screens are one `in` or one
regex search on the joined text, a detector gate is an `is not None`. A field whose raw text `quiet`
proves inert (one or two searches) skips every transform, screen and detector gate it feeds. Where the
rules run between the gates is `runpoints`'.

Safety: the source holds only identifiers, integers and the names of objects passed in the namespace
(`k0`, `k1`, ...). Config strings (search strings, header names, patterns) and request data are never
interpolated into it, so no config can inject code, and `repr`-quoting questions never arise.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from originguard.waf.fields import UNSET, Detection, FromRequest, FromSlot, Recipe, SlotFn
from originguard.waf.plan import CallGate, DetectionGate, Plan, ValuesGate
from originguard.waf.quiet import QuietFamily, quiet_families
from originguard.waf.rate import RateState
from originguard.waf.regex import trie_pattern
from originguard.waf.request import WafRequest
from originguard.waf.runpoints import INDENT, RuleHooks, RuleWriter
from originguard.waf.transforms import triggers

Evaluator = Callable[[WafRequest, float, RateState], Any]  # returns the Verdict of `evaluate`


def generate(plan: Plan, recipes: Sequence[Recipe], fns: tuple[SlotFn, ...], hooks: RuleHooks) -> Evaluator:
    """Compile `plan` into `evaluate_acl(request, now, rate) -> Verdict`."""
    writer = _Writer(recipes, fns, hooks, quiet_families(plan, recipes), _joiner(plan))
    emit = writer.line
    emit("def evaluate_acl(request, now, rate):")
    writer.depth = 1
    # The view (labels, counted rules, lazy slots for the rules) is built only when a rule runs: most
    # requests run none, and building it cost ~0.4 µs of the edge's ~1 µs default ACL.
    emit(f"cache = {writer.const([UNSET] * len(fns))}[:]")
    emit("view = None")
    # Rules that run on every request join `pending` just before their turn, so that on the common
    # path (nothing marked yet) each run point costs one truth test of a zero.
    emit("pending = 0")
    memo_at = len(writer.lines)
    for gate, below in plan.steps:
        writer.run_point(below, plan.always)
        writer.gate(gate)
    writer.run_point(-1, plan.always)
    if hooks.may_count:
        emit("if view is not None and (view.counted or view.labels):")
        emit(f"    return {writer.const(hooks.finish)}(view.labels, view.counted)")
    emit(f"return {writer.const(hooks.default)}")
    # Memos are shared by detectors on several fields, some computed only inside a family's branch.
    writer.lines[memo_at:memo_at] = [INDENT + line for line in writer.memo_lines]
    namespace = dict(writer.constants)
    exec(compile("\n".join(writer.lines), "<waf-acl>", "exec"), namespace)  # safe: see the docstring
    evaluator: Evaluator = namespace["evaluate_acl"]
    evaluator.source = "\n".join(writer.lines)  # type: ignore[attr-defined]  # for debugging and tests
    return evaluator


def _joiner(plan: Plan) -> str:
    """What joins a field's values for the screens: a character no screened literal contains.

    \x01 unless a literal holds it: no transform reacts to it, and it is no whitespace (so `cmd_line`
    fields can be proved quiet) and no newline (which the core cmd-injection rule's separators screen
    for: each joined text of two values would pass it). Any ASCII non-word character is sound for the
    detector screens, which treat it as the edge of a word.
    """
    literals = [
        literal
        for gate, _ in plan.steps
        if isinstance(gate, ValuesGate)
        for literal in (*gate.plain, *gate.folded)
    ]
    for joiner in ("\x01", "\x02", "\n"):
        if not any(joiner in literal for literal in literals):
            return joiner
    return "\x01"  # every candidate in some literal: that screen passes more often, never wrongly


class _Writer(RuleWriter):
    """The evaluator's source: which slot locals exist so far, the fields' families and gates."""

    def __init__(
        self,
        recipes: Sequence[Recipe],
        fns: tuple[SlotFn, ...],
        hooks: RuleHooks,
        families: dict[int, QuietFamily],
        joiner: str,
    ) -> None:
        super().__init__(hooks, fns)
        self.recipes = recipes
        self.joiner = joiner
        self.families = families
        self.memo_lines: list[str] = []
        self._slots: set[int] = set()
        self._joined: set[int] = set()
        self._memos: dict[Any, str] = {}
        # A memo only helps a detector key shared by several slots (the core body rule and json_values).
        self._shared_memos = {
            key
            for key, uses in Counter(r.memo for r in recipes if isinstance(r, Detection)).items()
            if uses > 1
        }

    def slot(self, index: int) -> str:
        """Emit the computation of slot `index` (and of the slots it reads) once; its local's name."""
        name = f"s{index}"
        if index in self._slots:
            return name
        family = self.families.get(index)
        if family is not None and index != family.root:
            self.slot(family.root)  # emits the family's branch, which defines its members
            if index in self._slots:
                return name
        recipe = self.recipes[index]
        if isinstance(recipe, FromRequest):
            call = f"{self.const(recipe.read)}(request)"
            if recipe.empty_unless is not None:
                assert recipe.empty_unless in ("query", "body")  # an attribute name from our code, not config
                call = f"{call} if request.{recipe.empty_unless} else ()"
            self.line(f"{name} = cache[{index}] = {call}")
        elif isinstance(recipe, Detection):
            self._detection(index, recipe)
        else:
            self._derived(index, recipe)
        self._slots.add(index)
        if family is not None and index == family.root:
            self._family(family)
        return name

    def _family(self, family: QuietFamily) -> None:
        """Test the root's text once; quiet: members are the root's values, else compute them."""
        root = family.root
        joined = self.joined(root)
        text = joined
        if family.plus_to_space:
            text = f"(t{root} := {joined}.replace({self.const('+')}, {self.const(' ')}))"
        tests = [f"{joined}.isascii()"]
        if family.plain is not None:
            tests.append(f"{self.const(family.plain.search)}({text}) is None")
            text = f"t{root}" if family.plus_to_space else joined
        if family.folded is not None:
            tests.append(f"{self.const(family.folded.search)}({text}.lower()) is None")
        # An absent field (no query, no body) is quiet without a search, unless a search matches "". Its
        # transforms give its (no or one empty) values back and its detectors find nothing: the cache
        # gets them, so that a rule that runs anyway (an `or` over query and body) computes none.
        if all(search is None or search.search("") is None for search in (family.plain, family.folded)):
            self.line(f"if not {joined}:")
            self.line(f"    q{root} = True")
            slots = sorted(i for i, found in self.families.items() if found is family and i != root)
            detections = [i for i in slots if isinstance(self.recipes[i], Detection)]
            values = [i for i in slots if i not in detections]
            if values:
                self.line("    " + " = ".join(f"cache[{i}]" for i in values) + f" = s{root}")
            if detections:
                self.line("    " + " = ".join(f"cache[{i}]" for i in detections) + " = None")
            self._exposed(family, joined)
            self.line(f"elif {' and '.join(tests)}:")
        else:
            self.line(f"if {' and '.join(tests)}:")
        self.line(f"    q{root} = True")
        self._exposed(family, joined)
        self.line("else:")
        self.line(f"    q{root} = False")
        self.depth += 1
        for member in family.members:
            self.joined(member)
        self.depth -= 1

    def _exposed(self, family: QuietFamily, joined: str) -> None:
        # Only size and non-empty needs read members outside `if not q`; a rule reads the cache.
        for member in family.exposed:
            self.line(f"    s{member} = cache[{member}] = s{family.root}")
            self.line(f"    j{member} = {joined}")

    def _detection(self, index: int, recipe: Detection) -> None:
        source = self.slot(recipe.source)
        memo = "{}"  # a memo of its own: values repeat rarely within one field
        if recipe.memo in self._shared_memos:
            memo = self._memos.get(recipe.memo) or ""
            if not memo:
                memo = self._memos[recipe.memo] = f"m{len(self._memos)}"
                self.memo_lines.append(f"{memo} = {{}}")
        # Tokenising costs ~1 µs a value even when the detector's own quick check rejects it; most
        # requests have no suspect character or word in any value of the field, seen in one search.
        text = self.joined(recipe.source) + (".lower()" if recipe.lowered else "")
        self.line(f"if {self.const(recipe.screen.search)}({text}) is None:")
        self.line(f"    s{index} = cache[{index}] = None")
        self.line("else:")
        self.line(f"    s{index} = cache[{index}] = {self.const(recipe.find)}({source}, {memo})")

    def _derived(self, index: int, recipe: FromSlot) -> None:
        source = self.slot(recipe.source)
        call = f"{self.const(recipe.derive)}({source})"
        if recipe.key is not None:  # one header or query argument: a dict lookup, not a call of one
            call = f"{source}.get({self.const(recipe.key)}, ())"
        found = triggers(recipe.transform) if recipe.transform is not None else None
        if not found:
            self.line(f"s{index} = cache[{index}] = {call}")
            return
        # Without a trigger the transform returns its input: the value and its joined text carry over.
        joined = self.joined(recipe.source)
        test = " or ".join(f"{self.const(trigger)} in {joined}" for trigger in found)
        self.line(f"if {test}:")
        self.line(f"    s{index} = cache[{index}] = {call}")
        self.line(f"    j{index} = {self._join(index)}")
        self.line("else:")
        self.line(f"    s{index} = cache[{index}] = {source}")
        self.line(f"    j{index} = {joined}")
        self._joined.add(index)

    def joined(self, index: int) -> str:
        """The local holding slot `index`'s values joined by `joiner` (which no literal or trigger has)."""
        self.slot(index)
        if index not in self._joined:
            self.line(f"j{index} = {self._join(index)}")
            self._joined.add(index)
        return f"j{index}"

    def _join(self, index: int) -> str:
        return f"s{index}[0] if len(s{index}) == 1 else {self.const(self.joiner)}.join(s{index})"

    def gate(self, gate: ValuesGate | DetectionGate | CallGate) -> None:
        self._possible |= gate.marks
        family = self.families.get(gate.slot)
        if family is None:
            self._gate(gate, None)
            return
        self.slot(family.root)
        quiet = f"q{family.root}"
        if isinstance(gate, ValuesGate) and (gate.nonempty or gate.sizes is not None):
            self._gate(gate, quiet)  # sizes still count; only the literal screens are skipped
            return
        # Slots computed in the skipped block exist only there: later code must not read their locals.
        slots, joined = set(self._slots), set(self._joined)
        self.line(f"if not {quiet}:")
        self.depth += 1
        self._gate(gate, None)
        self.depth -= 1
        self._slots, self._joined = slots, joined

    def _gate(self, gate: ValuesGate | DetectionGate | CallGate, quiet: str | None) -> None:
        value = self.slot(gate.slot)
        if isinstance(gate, DetectionGate):
            self.line(f"if {value} is not None:")
            self.line(f"    pending |= {gate.marks}")
        elif isinstance(gate, CallGate):
            self.line(f"pending |= {self.const(gate.test)}({value})")
        else:
            self._values_gate(gate, value, quiet)

    def _values_gate(self, gate: ValuesGate, value: str, quiet: str | None) -> None:
        screens: list[str] = []
        if gate.literals is not None:
            joined = self.joined(gate.slot)
            if gate.plain:
                screens.append(self._screen(gate.plain, joined))
            if gate.folded:
                # Only ASCII lower-cases the way RE2 folds case; other text always passes to the rules.
                lowered = self._screen(gate.folded, f"{joined}.lower()")
                screens.append(f"not {joined}.isascii() or {lowered}")
        self.line(f"if {value}:")
        if gate.nonempty:
            self.line(f"    pending |= {gate.nonempty}")
        if gate.sizes is not None:
            self.line(f"    pending |= {self.const(gate.sizes)}({value})")
        if screens:
            test = " or ".join(f"({screen})" for screen in screens)
            self.line(f"    if {f'not {quiet} and ({test})' if quiet else test}:")
            self.line(f"        pending |= {self.const(gate.literals)}({value})")
        if not (gate.nonempty or gate.sizes or screens):
            self.line("    pass")

    def _screen(self, literals: frozenset[str], text: str) -> str:
        if len(literals) == 1:
            return f"{self.const(next(iter(literals)))} in {text}"
        search = re.compile(trie_pattern(literals)).search
        return f"{self.const(search)}({text}) is not None"
