"""Fields whose raw text proves, in one or two searches, that none of their transforms or screens fire.

A field (a *root* slot: read from the request, or one header out of the header index) feeds a family of
slots: its transforms (`url_decode`, `lowercase`, ...) and the detectors run on them. On benign traffic
the generated evaluator still paid, per family, one trigger test per transform, one join and one screen
per gate. Here each family gets two regexes, built at compile time from what its gates and transforms
react to: `plain` on the root's values joined (by a newline or `codegen._joiner`'s pick), `folded` on
that text lower-cased. When both fail (and the text is ASCII), every transform with trigger characters
returns its input, so each member holds the root's values (lower-cased after a `lowercase`), every
screen sees exactly the text the family regexes already searched, and so every gate of the family marks
nothing; `codegen` then skips them.

The proof is per family, not per request: a referer with `:` (an XSS screen character) must not cost the
path its skip. A family is only *quiet-capable* when the proof holds for all of it: transforms without
trigger characters other than `lowercase` and `cmd_line` (which lower-cases text without its triggers;
base64_decode, compress_white_space, normalize_path can turn any text into any other), call gates
(query-argument names, addresses), size or non-empty needs on a lower-cased member, or a screen that is
not a plain group-free pattern disqualify it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from originguard.waf.fields import Detection, FromSlot, Recipe
from originguard.waf.plan import CallGate, DetectionGate, Gate, Plan
from originguard.waf.regex import trie_alternatives
from originguard.waf.transforms import CMD_LINE_SPACES, CMD_LINE_TRIGGERS, triggers

_URL_DECODES: Final = frozenset({"url_decode", "url_decode_uni"})


@dataclass(frozen=True, slots=True)
class QuietFamily:
    """A root slot, the members its gates need, and the searches that prove every gate quiet."""

    root: int
    members: tuple[int, ...]  # what the gates read (root excluded), computed when not quiet, in slot order
    exposed: tuple[int, ...]  # members read by size or non-empty needs: equal to the root when quiet
    plain: re.Pattern[str] | None  # tested on the root's joined text
    folded: re.Pattern[str] | None  # tested on the root's joined text lower-cased
    # Every gate reads url-decoded text: without `%`, decoding only turns `+` into a space, so the
    # searches run on the text with that done and `+` (a query's spaces) stops spoiling the proof.
    plus_to_space: bool


def quiet_families(plan: Plan, recipes: Sequence[Recipe]) -> dict[int, QuietFamily]:
    """Every quiet-capable family, by the index of each slot in it (root, members, detections)."""
    children: dict[int, list[int]] = defaultdict(list)
    for index, recipe in enumerate(recipes):
        if isinstance(recipe, FromSlot | Detection):
            children[recipe.source].append(index)
    gates: dict[int, Gate] = {gate.slot: gate for gate, _ in plan.steps}
    found: dict[int, QuietFamily] = {}
    for index, recipe in enumerate(recipes):
        if isinstance(recipe, Detection) or (isinstance(recipe, FromSlot) and recipe.transform is not None):
            continue  # not a root
        family = _family(index, recipes, children, gates)
        if family is not None:
            for member in _slots_of(index, recipes, children):
                found[member] = family
    return found


def _slots_of(root: int, recipes: Sequence[Recipe], children: dict[int, list[int]]) -> list[int]:
    out, stack = [], [root]
    while stack:
        index = stack.pop()
        out.append(index)
        stack.extend(children.get(index, ()))
    return out


def _family(
    root: int, recipes: Sequence[Recipe], children: dict[int, list[int]], gates: dict[int, Gate]
) -> QuietFamily | None:
    lowered: dict[int, bool] = {root: False}  # member -> whether its chain lower-cases
    decoded: dict[int, bool] = {root: False}  # member -> whether its chain url-decodes
    plain: set[str] = set()
    folded: set[str] = set()
    patterns: dict[bool, list[str]] = {False: [], True: []}  # detector screens by "on lower-cased text"
    needed: set[int] = set()
    exposed: set[int] = set()
    for index in _slots_of(root, recipes, children):
        recipe = recipes[index]
        if index != root:
            assert isinstance(recipe, FromSlot | Detection)
            source_lowered = lowered[recipe.source]
            if isinstance(recipe, FromSlot):
                if recipe.transform is None:
                    return None  # another root reads this member: it would need it computed
                decodes = recipe.transform in _URL_DECODES
                decoded[index] = decoded[recipe.source] or decodes
                if recipe.transform == "lowercase":
                    lowered[index] = True
                elif recipe.transform == "cmd_line":
                    # Without its triggers cmd_line only lower-cases; `+` turned space can only add one.
                    lowered[index] = True
                    plain.update(CMD_LINE_TRIGGERS)
                    patterns[False].append(CMD_LINE_SPACES)
                else:
                    found = triggers(recipe.transform)
                    if not found:
                        return None  # can make any text from any text: nothing to prove quiet
                    lowered[index] = source_lowered
                    # `+` and `%` are the same in the text and lower-cased: one set will do.
                    (folded if source_lowered else plain).update(t for t in found if t != "+" or not decodes)
        gate = gates.get(index)
        if gate is None:
            continue
        if isinstance(gate, CallGate):
            return None
        if isinstance(gate, DetectionGate):
            assert isinstance(recipe, Detection)
            screen = recipe.screen
            if screen.groups or screen.flags != re.UNICODE:
                return None  # alternation below must mean "some screen matches", and nothing else
            patterns[recipe.lowered or lowered[recipe.source]].append(screen.pattern)
            needed.add(recipe.source)
            continue
        if (gate.nonempty or gate.sizes is not None) and lowered[index]:
            return None  # the need reads the lower-cased values, which a quiet family never computes
        if gate.nonempty or gate.sizes is not None:
            exposed.add(index)
        if gate.literals is not None:
            (folded if lowered[index] else plain).update(gate.plain)
            folded.update(gate.folded)
        needed.add(index)
    if not (plain or folded or patterns[False] or patterns[True]):
        return None  # no screen to skip
    plus_to_space = not exposed and all(decoded[index] for index in needed)
    if not plus_to_space and any(decoded.values()):
        plain.add("+")
    members = _ancestors(needed, root, recipes)
    return QuietFamily(
        root,
        tuple(sorted(members)),
        tuple(sorted(exposed - {root})),
        _search(plain, patterns[False]),
        _search(folded, patterns[True]),
        plus_to_space,
    )


def _ancestors(needed: set[int], root: int, recipes: Sequence[Recipe]) -> set[int]:
    members: set[int] = set()
    for index in needed:
        while index != root and index not in members:
            members.add(index)
            recipe = recipes[index]
            assert isinstance(recipe, FromSlot)
            index = recipe.source
    return members


def _search(literals: set[str], patterns: list[str]) -> re.Pattern[str] | None:
    # One flat alternation (a flag-free pattern's alternatives join as they are): with each screen in a
    # group of its own, sre could not skip to candidate characters and the search cost 3x as much.
    parts = [*(trie_alternatives(frozenset(literals)) if literals else []), *patterns]
    return re.compile("|".join(parts)) if parts else None
