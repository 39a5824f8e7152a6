# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Which rules could match a request, decided per field before the rules run.

Calling a rule's matcher costs 1-2 µs of Python however cheap its test, so a 100-rule ACL cost
150-220 µs a request although almost no rule matches benign traffic. At compile time each rule gets a
*need*: a cheap necessary condition on one slot (a literal its regex or search string must contain, a
query argument it reads, a detector result, the client address). A *gate* tests, in one call, the needs
of every rule on one slot (one trie-shaped search for all the literals of the path, one dict lookup per
prefix length for every ip_set) and returns a bit mask of the rules that could match. `evaluate` runs
only those, in priority order; a rule whose need fails would have returned no match, so the verdict is
the one a rule-by-rule walk gives (`evaluate_reference`, compared by a property test).

Gates only read slots (pure, cached per request), and each runs lazily, just before the first rule it
can mark: a request blocked by the first rule computes no other field. Gates are plain data (`Gate`) so
that `codegen` can turn the whole plan into one straight-line function. Rules with side effects
(rate_based counts every request it sees) and rules without a useful need run unconditionally.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from originguard.config.waf import (
    AndStatement,
    ByteMatchStatement,
    FieldStatement,
    ForwardedIp,
    GeoMatchStatement,
    IpSetStatement,
    LabelMatchStatement,
    ManagedStatement,
    NotStatement,
    OrStatement,
    QueryArgField,
    RateBasedStatement,
    RegexMatchStatement,
    SizeConstraintStatement,
    SqliStatement,
    Statement,
    XssStatement,
)
from originguard.waf.fields import BODY_FIELDS
from originguard.waf.geo import GeoTable
from originguard.waf.ipset import CidrSet, IpKey
from originguard.waf.regex import case_insensitive, literal_search, required_literals
from originguard.waf.request import FieldValues
from originguard.waf.statements import SIZE_OPS, StatementCompiler

SlotTest = Callable[[Any], int]  # a slot's value -> the mask (bit = rule index) of rules that could match


@dataclass(frozen=True, slots=True)
class ValuesGate:
    """Literal, size and non-empty needs of one values slot; `codegen` inlines the literal screens."""

    slot: int
    marks: int  # every rule the gate can mark
    nonempty: int  # rules that need only some value
    sizes: SlotTest | None  # the size needs, measured per value
    plain: frozenset[str]  # every literal of the slot, compared as they are
    folded: frozenset[str]  # every lower-case literal compared case-insensitively (all ASCII)
    literals: SlotTest | None  # each rule's own literals, tested only when a screen finds one


@dataclass(frozen=True, slots=True)
class DetectionGate:
    """The rules of one detector slot: they can match when it found something."""

    slot: int
    marks: int


@dataclass(frozen=True, slots=True)
class CallGate:
    """Query-argument names or client addresses, tested by one call on the slot's value."""

    slot: int
    marks: int
    test: SlotTest


Gate = ValuesGate | DetectionGate | CallGate


@dataclass(frozen=True, slots=True)
class Plan:
    """Rules run on every request (`always`) and gates, ordered by the first rule each can mark."""

    always: int
    steps: tuple[tuple[Gate, int], ...]  # (gate, mask of the rules before the first it can mark)
    # Rules whose gate marks them only when they match (the whole statement an ip_set, a geo_match, a
    # detector or a byte_match `contains`): a count rule among them need not run its matcher.
    exact: int = 0


@dataclass(frozen=True, slots=True)
class LiteralNeed:
    """The slot has a value containing one of `literals` (lower-case, compared folded, if `folded`)."""

    slot: int
    literals: frozenset[str]
    folded: bool


@dataclass(frozen=True, slots=True)
class ValuesNeed:
    """The slot has at least one value (every field test loops over the values)."""

    slot: int


@dataclass(frozen=True, slots=True)
class SizeNeed:
    """A value of the slot satisfies `length op size` (bytes, as size_constraint measures)."""

    slot: int
    op: str
    size: int


@dataclass(frozen=True, slots=True)
class ArgNeed:
    """The query has an argument named `name` (lower-case)."""

    args_slot: int
    name: str


@dataclass(frozen=True, slots=True)
class DetectionNeed:
    """The detector slot found something."""

    slot: int


@dataclass(frozen=True, slots=True)
class AddressNeed:
    """A client address is in `networks` or in `countries`; with no valid address, `fallback` decides."""

    slot: int
    networks: CidrSet | None
    countries: frozenset[str]
    fallback: bool


Need = LiteralNeed | ValuesNeed | SizeNeed | ArgNeed | DetectionNeed | AddressNeed
# None: no useful need, run the rule on every request; (): the rule can never match.
Needs = tuple[Need, ...] | None
NEVER: Final[tuple[Need, ...]] = ()


@dataclass
class Planner:
    """Collects each rule's needs in priority order, then builds the gates."""

    compiler: StatementCompiler
    _always: int = 0
    _exact: int = 0
    _needs: list[tuple[int, Need]] = field(default_factory=list)
    _labels: set[str] = field(default_factory=set)  # labels of the rules added so far

    def add(self, index: int, statement: Statement, labels: Sequence[str]) -> None:
        """Plan rule number `index`; `labels` are the labels it adds when it matches."""
        needs = None if _counts_requests(statement) else self._needs_of(statement)
        if needs is None:
            self._always |= 1 << index
        else:
            self._needs.extend((index, need) for need in needs)
            if _exact(statement, needs):
                self._exact |= 1 << index
        self._labels.update(labels)

    def build(self) -> Plan:
        """One gate per slot (or per kind of slot), sorted by the first rule it can mark."""
        groups: dict[Hashable, list[tuple[int, Need]]] = defaultdict(list)
        for index, need in self._needs:
            groups[_gate_key(need)].append((index, need))
        built = sorted(
            (
                (min(i for i, _ in members), _build_gate(members, self.compiler.geo))
                for members in groups.values()
            ),
            key=lambda pair: pair[0],
        )
        return Plan(self._always, tuple((gate, (1 << start) - 1) for start, gate in built), self._exact)

    def _needs_of(self, statement: Statement) -> Needs:
        if isinstance(statement, ByteMatchStatement):
            spec = statement.byte_match
            return self._field_need(spec, lambda slot: LiteralNeed(slot, frozenset({spec.search}), False))
        if isinstance(statement, RegexMatchStatement):
            pattern = statement.regex_match.pattern
            literals = required_literals(pattern)
            folded = case_insensitive(pattern)
            if not literals or literal_search(literals, folded=folded) is None:
                return self._field_need(statement.regex_match, None)
            return self._field_need(statement.regex_match, lambda slot: LiteralNeed(slot, literals, folded))
        if isinstance(statement, SizeConstraintStatement):
            size = statement.size_constraint
            return self._field_need(size, lambda slot: SizeNeed(slot, size.op, size.size))
        if isinstance(statement, SqliStatement | XssStatement):
            detector = statement.sqli if isinstance(statement, SqliStatement) else statement.xss
            if _cut_off(detector):
                return None
            return (DetectionNeed(self.compiler.detection_slot(detector, statement.kind)),)
        if isinstance(statement, IpSetStatement):
            ips = statement.ip_set
            return (self._address(ips.forwarded_ip, CidrSet(ips.cidrs), frozenset()),)
        if isinstance(statement, GeoMatchStatement):
            geo = statement.geo_match
            return (self._address(geo.forwarded_ip, None, frozenset(geo.countries)),)
        if isinstance(statement, LabelMatchStatement):
            return None if self._label_possible(statement) else NEVER
        if isinstance(statement, AndStatement):
            return _all_of([self._needs_of(child) for child in statement.and_])
        if isinstance(statement, OrStatement):
            return _any_of([self._needs_of(child) for child in statement.or_])
        if isinstance(statement, NotStatement | RateBasedStatement | ManagedStatement):
            return None
        return None  # pragma: no cover - every kind is handled above

    def _field_need(self, spec: FieldStatement, make: Callable[[int], Need] | None) -> Needs:
        if _cut_off(spec):
            return None  # a cut-off body decides without looking at the values
        if make is None and isinstance(spec.field, QueryArgField):
            # Presence of the argument is a need all query_arg rules share in one dict lookup each.
            return (ArgNeed(self.compiler.query_args_slot(), spec.field.query_arg.lower()),)
        slot = self.compiler.values_slot(spec, for_detector=False)
        return (make(slot) if make is not None else ValuesNeed(slot),)

    def _address(
        self, forwarded: ForwardedIp | None, networks: CidrSet | None, countries: frozenset[str]
    ) -> Need:
        slot = self.compiler.client_slot(forwarded)
        fallback = forwarded is not None and forwarded.fallback == "match"
        return AddressNeed(slot, networks, countries, fallback)

    def _label_possible(self, statement: LabelMatchStatement) -> bool:
        # label_match sees only the labels of earlier rules, all known now: no such label, no match.
        label = statement.label_match.label
        if statement.label_match.scope == "namespace":
            prefix = label if label.endswith(":") else label + ":"
            return any(known.startswith(prefix) for known in self._labels)
        return label in self._labels


def _exact(statement: Statement, needs: tuple[Need, ...]) -> bool:
    """Whether the gates mark the rule exactly when `statement` matches (see `Plan.exact`)."""
    if len(needs) != 1:
        return False
    need = needs[0]
    if isinstance(statement, IpSetStatement | GeoMatchStatement):
        return isinstance(need, AddressNeed)  # the gate tests every address and the fallback alike
    if isinstance(statement, SqliStatement | XssStatement):
        return isinstance(need, DetectionNeed)  # the matcher reads the slot the gate tests
    if isinstance(statement, ByteMatchStatement) and statement.byte_match.position == "contains":
        # The gate's test is `search in value` on the same values; a cut-off body is never planned.
        return isinstance(need, LiteralNeed) and not need.folded
    return False


def _counts_requests(statement: Statement) -> bool:
    """Whether evaluating `statement` has an effect (a rate_based counts), so it must never be skipped."""
    if isinstance(statement, RateBasedStatement):
        return True
    if isinstance(statement, AndStatement):
        return any(_counts_requests(child) for child in statement.and_)
    if isinstance(statement, OrStatement):
        return any(_counts_requests(child) for child in statement.or_)
    if isinstance(statement, NotStatement):
        return _counts_requests(statement.not_)
    return False


def _cut_off(spec: FieldStatement) -> bool:
    return spec.field in BODY_FIELDS and spec.oversize != "continue"


def _all_of(children: list[Needs]) -> Needs:
    """`and` matches only if every child does: any one child's needs will do; pick the cheapest."""
    if any(needs == NEVER for needs in children):
        return NEVER
    known = [needs for needs in children if needs is not None]
    if not known:
        return None
    return min(known, key=lambda needs: sum(_cost(need) for need in needs))


def _any_of(children: list[Needs]) -> Needs:
    """`or` matches if some child does: it needs what any child needs."""
    if any(needs is None for needs in children):
        return None
    return tuple(need for needs in children if needs is not None for need in needs)


def _cost(need: Need) -> int:
    # Literal searches and dict lookups are cheap; a detector tokenises; a bare values test rarely fails.
    if isinstance(need, LiteralNeed | ArgNeed | AddressNeed):
        return 1
    if isinstance(need, DetectionNeed):
        return 3
    return 5


def _gate_key(need: Need) -> Hashable:
    if isinstance(need, LiteralNeed | ValuesNeed | SizeNeed):
        return ("values", need.slot)
    if isinstance(need, ArgNeed):
        return ("args", need.args_slot)
    if isinstance(need, DetectionNeed):
        return ("detection", need.slot)
    return ("client", need.slot)


def _build_gate(members: list[tuple[int, Need]], geo: GeoTable) -> Gate:
    first = members[0][1]
    if isinstance(first, LiteralNeed | ValuesNeed | SizeNeed):
        return _values_gate(first.slot, members)
    if isinstance(first, ArgNeed):
        return _args_gate(first.args_slot, members)
    if isinstance(first, DetectionNeed):
        return _detection_gate(first.slot, members)
    return _address_gate(first.slot, members, geo)


def _values_gate(slot: int, members: list[tuple[int, Need]]) -> Gate:
    """Literal, size and non-empty needs of one slot, tested together."""
    nonempty = 0
    sizes: list[tuple[int, Callable[[int, int], bool], int]] = []
    all_sizes = 0
    literals: list[tuple[int, Callable[[str], bool]]] = []
    plain: set[str] = set()
    folded: set[str] = set()
    for index, need in members:
        bit = 1 << index
        if isinstance(need, ValuesNeed):
            nonempty |= bit
        elif isinstance(need, SizeNeed):
            sizes.append((bit, SIZE_OPS[need.op], need.size))
            all_sizes |= bit
        elif isinstance(need, LiteralNeed):
            test = literal_search(need.literals, folded=need.folded)
            assert test is not None, "needs without a literal search are planned as ValuesNeed"
            literals.append((bit, test))
            (folded if need.folded else plain).update(need.literals)

    # Lengths for which no size need holds (one interval for gt/ge/lt/le; eq/ne give none): most
    # values fall in it and cost one comparison instead of one per rule.
    quiet_low, quiet_high = _quiet_lengths([(need_op, size) for _, need_op, size in sizes])

    def size_mask(values: FieldValues) -> int:
        mask = 0
        for value in values:
            if quiet_low <= len(value) <= quiet_high and value.isascii():
                continue
            if not value.isascii():
                mask |= all_sizes  # the byte length needs encoding; let the rules measure it
                continue
            length = len(value)
            for bit, op, size in sizes:
                if op(length, size):
                    mask |= bit
        return mask

    def literal_mask(values: FieldValues) -> int:
        mask = 0
        for bit, test in literals:
            for value in values:
                if test(value):
                    mask |= bit
                    break
        return mask

    return ValuesGate(
        slot,
        _bits(members),
        nonempty,
        size_mask if sizes else None,
        frozenset(plain),
        frozenset(folded),
        literal_mask if literals else None,
    )


def _args_gate(slot: int, members: list[tuple[int, Need]]) -> Gate:
    by_name: dict[str, int] = defaultdict(int)
    for index, need in members:
        assert isinstance(need, ArgNeed)
        by_name[need.name] |= 1 << index
    wanted = dict(by_name)

    def names_mask(index: dict[str, FieldValues]) -> int:
        mask = 0
        for name in index:
            mask |= wanted.get(name, 0)
        return mask

    return CallGate(slot, _bits(members), names_mask)


def _detection_gate(slot: int, members: list[tuple[int, Need]]) -> Gate:
    return DetectionGate(slot, _bits(members))


def _address_gate(slot: int, members: list[tuple[int, Need]], geo: GeoTable) -> Gate:
    """Every ip_set and geo_match on one client-address source: a dict lookup per prefix length."""
    fallback = 0
    networks: dict[int, dict[int, dict[int, int]]] = {4: {}, 6: {}}
    countries: dict[str, int] = defaultdict(int)
    for index, need in members:
        assert isinstance(need, AddressNeed)
        bit = 1 << index
        if need.fallback:
            fallback |= bit
        if need.networks is not None:
            for version, shift, numbers in need.networks.tables():
                table = networks[version].setdefault(shift, {})
                for number in numbers:
                    table[number] = table.get(number, 0) | bit
        for country in need.countries:
            countries[country] |= bit
    v4 = tuple(sorted(networks[4].items()))
    v6 = tuple(sorted(networks[6].items()))
    by_country = dict(countries)
    lookup = geo.country if by_country else None

    def address_mask(keys: list[IpKey]) -> int:
        if not keys:
            return fallback
        mask = 0
        for key in keys:
            version, number = key
            for shift, table in v4 if version == 4 else v6:
                mask |= table.get(number >> shift, 0)
            if lookup is not None:
                country = lookup(key)
                if country is not None:
                    mask |= by_country.get(country, 0)
        return mask

    return CallGate(slot, _bits(members), address_mask)


def _quiet_lengths(sizes: list[tuple[Callable[[int, int], bool], int]]) -> tuple[int, int]:
    """The widest interval [low, high] of lengths satisfying no (op, size); (1, 0) when none is known."""
    low, high = 0, 1 << 62
    for op, size in sizes:
        if op is SIZE_OPS["gt"]:
            high = min(high, size)
        elif op is SIZE_OPS["ge"]:
            high = min(high, size - 1)
        elif op is SIZE_OPS["lt"]:
            low = max(low, size)
        elif op is SIZE_OPS["le"]:
            low = max(low, size + 1)
        else:
            return 1, 0
    return low, high


def _bits(members: list[tuple[int, Need]]) -> int:
    bits = 0
    for index, _ in members:
        bits |= 1 << index
    return bits
