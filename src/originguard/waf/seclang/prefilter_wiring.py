# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The inversion prefilter: one RE2 set per transform chain over every positive @rx/@pm of a rule set.

Each prefilterable link gets a key; its pattern (or its phrases, as one alternation) enters the
RE2 set of its transform chain. Per transaction each distinct transformed value is scanned once
(one DFA pass, ~0.8 µs for a short benign value with CRS 4.28's 199 attack patterns, measured);
a keyed link whose key is not among the value's matches cannot match it and is skipped without
running its operator.

Why RE2 sets and not Hyperscan: the `hyperscan` 0.9.1 wheel misses matches (measured: `.+=x*\\(`
does not match `@a=bcccccccccc@v=(`, and CRS's 942210 missed its own regression attack), and a
prefilter that misses is a bypass. An RE2 set is exact, compiles CRS in a tenth of a second and
scans in the same time. A set's DFA may give up on a hostile value (its memory budget spent);
each set holds a sentinel that matches every value, so a scan without the sentinel means "gave
up" and every key of the chain stays a candidate: the rules then run their own (NFA-backed) RE2.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import re2

from originguard.waf.seclang.memo import shared_keys
from originguard.waf.seclang.model import Link, Rule
from originguard.waf.seclang.operators import file_phrases, literal_pattern, pm_phrases
from originguard.waf.seclang.regex import translate

_OPTIONS: Final = re2.Options()
_OPTIONS.encoding = re2.Options.Encoding.LATIN1
_OPTIONS.log_errors = False
_OPTIONS.never_capture = True
_OPTIONS.max_mem = 256 << 20  # the DFA of a set of ~200 CRS patterns; spent only as values need it
_SENTINEL: Final = b"\\A"


class ChainSet:
    """One transform chain's RE2 set: `scan(value)` → the keys that match it."""

    __slots__ = ("everything", "keys", "sentinel", "set")

    def __init__(self, patterns: Sequence[tuple[bytes, int]]) -> None:
        self.set = re2.Set.SearchSet(_OPTIONS)
        self.keys: list[int] = []
        kept: list[int] = []
        for pattern, key in patterns:
            try:
                self.set.Add(pattern)
            except re2.error:
                continue  # not RE2 (a look-around of CRS 3.3): the rule runs its own operator
            self.keys.append(key)
            kept.append(key)
        self.sentinel = len(self.keys)
        self.set.Add(_SENTINEL)
        self.set.Compile()
        self.everything = frozenset(kept)

    def scan(self, value: bytes) -> frozenset[int]:
        found = self.set.Match(value)
        if self.sentinel not in found:
            return self.everything  # the DFA gave up: nothing may be skipped
        keys = self.keys
        return shared_keys(frozenset(keys[i] for i in found if i != self.sentinel))


class Prefilter:
    """`scan(chain_id, value)` → the keys of links with that transform chain that match `value`;
    `scan_any(value)` → the keys of every chain whose pattern matches `value` (one pass: many
    chains leave a plain value as it is, so one scan of it answers for all of them)."""

    def __init__(
        self,
        sets: dict[int, ChainSet],
        patterns: Sequence[tuple[bytes, int]],
        readers: dict[tuple[str, int], frozenset[int]],
    ) -> None:
        self.sets = sets
        self.any = ChainSet(patterns)
        self.key_chain: dict[int, int] = {
            key: chain for chain, chain_set in sets.items() for key in chain_set.keys
        }
        self.patterns_by_key = {key: pattern for pattern, key in patterns}
        self.readers = readers  # (collection, chain) → keys of the links reading it
        self.narrow: dict[tuple[str, int], ChainSet] = {}  # built on the first long value

    def scan_for(self, coll: str, chain: int, value: bytes) -> frozenset[int]:
        """`scan(chain, value)` restricted to the links that read `coll`, for long values: a
        64 KiB upload through a set of 150 patterns costs ~1 ms, through its readers' 3 ~0.1 ms."""
        readers = self.readers.get((coll, chain))
        if readers is None:
            return self.scan(chain, value)
        narrow = self.narrow.get((coll, chain))
        if narrow is None:
            narrow = ChainSet([(self.patterns_by_key[key], key) for key in sorted(readers)])
            self.narrow[(coll, chain)] = narrow  # bounded: one per (collection, chain) of the rules
        return narrow.scan(value)

    def scan_any(self, value: bytes) -> frozenset[int]:
        return self.any.scan(value)

    def scan(self, chain_id: int, value: bytes) -> frozenset[int]:
        chain_set = self.sets.get(chain_id)
        return chain_set.scan(value) if chain_set is not None else frozenset()


def wire(phases: dict[int, list[Rule]], data_dirs: Sequence[Path]) -> Prefilter | None:
    """Key every prefilterable link of the phases' rules and build the sets (None: nothing to key).
    RE2 sets compile in ~0.1 s, so nothing of theirs is stored."""
    by_chain: dict[int, list[tuple[bytes, int]]] = {}
    key = 0
    for link in _links(phases):
        pattern = _pattern(link, data_dirs)
        if pattern is None:
            continue
        link.prefilter_key = key
        by_chain.setdefault(link.chain_id, []).append((pattern, key))
        key += 1
    sets = {chain: ChainSet(patterns) for chain, patterns in by_chain.items()}
    keyed = {k for chain_set in sets.values() for k in chain_set.keys}
    for link in _links(phases):
        if link.prefilter_key >= 0 and link.prefilter_key not in keyed:
            link.prefilter_key = -1
    every = [(pattern, key) for patterns in by_chain.values() for pattern, key in patterns if key in keyed]
    readers: dict[tuple[str, int], set[int]] = {}
    for link in _links(phases):
        if link.prefilter_key >= 0:
            for spec in link.variables:
                readers.setdefault((spec.collection, link.chain_id), set()).add(link.prefilter_key)
    frozen = {where: frozenset(keys) for where, keys in readers.items()}
    return Prefilter(sets, every, frozen) if sets else None


def _links(phases: dict[int, list[Rule]]) -> Iterator[Link]:
    seen: set[int] = set()
    for rules in phases.values():
        for rule in rules:
            if rule.is_marker or id(rule) in seen:
                continue
            seen.add(id(rule))
            yield from rule.links


def _pattern(link: Link, data_dirs: Sequence[Path]) -> bytes | None:
    """The link's pattern for its chain's set, as its operator matches (None: not prefilterable)."""
    if link.op_negated or link.op_dynamic or not link.variables:
        return None
    name = link.op_name.lower()
    if name == "@rx":
        if not link.op_param:
            return None
        return b"(?sm)" + translate(link.op_param.encode("utf-8", "surrogateescape"))
    if name == "@pm":
        phrases = pm_phrases(link.op_param)
    elif name in ("@pmfromfile", "@pmf"):
        phrases = file_phrases(link.op_param, data_dirs)
    else:
        return None
    if not phrases or any(not p for p in phrases):
        return None
    return b"(?i)(?:" + b"|".join(literal_pattern(p) for p in phrases) + b")"
