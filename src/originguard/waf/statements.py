# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Compile statements into matcher closures: `matcher(view) -> Match | None`.

Everything a statement needs (search strings, RE2 programs, CIDR sets, transform chains, slot numbers)
is resolved here once; a matcher only reads slots and compares.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Final, assert_never

from originguard.config.waf import (
    AndStatement,
    ByteMatch,
    ByteMatchStatement,
    FieldStatement,
    FieldToMatch,
    ForwardedIp,
    GeoMatchStatement,
    HeaderField,
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
    Transform,
    XssStatement,
)
from originguard.waf.fields import (
    BODY_FIELDS,
    Detection,
    FromRequest,
    FromSlot,
    Matcher,
    Recipe,
    RequestView,
    SlotTable,
    empty_source,
    extractor,
    field_key,
    labeller,
)
from originguard.waf.geo import GeoTable
from originguard.waf.ipset import CidrSet, IpKey, forwarded_ips, parse_ip
from originguard.waf.ratelimit import Direct, compile_rate_based, rate_counter
from originguard.waf.regex import compile_search
from originguard.waf.request import (
    FieldValues,
    Match,
    WafRequest,
    cookie_crumbs,
    header_index,
    query_index,
)
from originguard.waf.sqli import detect_sqli, suspect_pattern
from originguard.waf.transforms import transform_all
from originguard.waf.xss import SUSPECT as XSS_SUSPECT
from originguard.waf.xss import detect_xss

Predicate = Callable[[str], bool]
# `not` matches without a field; `and` prefers a child's match that names one.
NO_FIELD: Final = Match("", "")
SIZE_OPS: Final[dict[str, Callable[[int, int], bool]]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
}


class StatementCompiler:
    """Turns config statements into matchers, sharing slots across the whole ACL."""

    def __init__(self, slots: SlotTable, geo: GeoTable) -> None:
        self.slots = slots
        self.geo = geo

    def compile(self, statement: Statement, rule_id: str) -> Matcher:
        """A matcher for `statement`; `rule_id` names rate-limit counters."""
        if isinstance(statement, ByteMatchStatement):
            if statement.byte_match.position == "contains":
                return self._contains(statement.byte_match)
            return self._field(statement.byte_match, _byte_predicate(statement.byte_match), "")
        if isinstance(statement, RegexMatchStatement):
            return self._field(statement.regex_match, compile_search(statement.regex_match.pattern), "")
        if isinstance(statement, SizeConstraintStatement):
            spec = statement.size_constraint
            op, size = SIZE_OPS[spec.op], spec.size
            return self._field(spec, lambda v: op(len(v) if v.isascii() else len(v.encode()), size), "")
        if isinstance(statement, SqliStatement):
            return self._detector(statement.sqli, "sqli")
        if isinstance(statement, XssStatement):
            return self._detector(statement.xss, "xss")
        if isinstance(statement, IpSetStatement):
            return self._ip_set(statement)
        if isinstance(statement, GeoMatchStatement):
            return self._geo(statement)
        if isinstance(statement, RateBasedStatement):
            return compile_rate_based(statement.rate_based, rule_id, self)
        if isinstance(statement, LabelMatchStatement):
            return _label_match(statement.label_match.label, statement.label_match.scope == "namespace")
        if isinstance(statement, AndStatement):
            return _all([self.compile(s, rule_id) for s in statement.and_])
        if isinstance(statement, OrStatement):
            return _any([self.compile(s, rule_id) for s in statement.or_])
        if isinstance(statement, NotStatement):
            return _negate(self.compile(statement.not_, rule_id))
        if isinstance(statement, ManagedStatement):
            raise ValueError("managed statements are expanded into rules before compiling")
        assert_never(statement)

    def direct(self, statement: Statement, rule_id: str) -> Direct | None:
        """`statement` as a function of the request alone (no slots, no view), when it is one."""
        if isinstance(statement, RateBasedStatement):
            return rate_counter(statement.rate_based, rule_id)
        return None

    def values_slot(self, spec: FieldStatement, *, for_detector: bool) -> int:
        """The slot of `spec.field` after `spec.transforms`."""
        field = spec.field
        # Only query and body are read differently by detectors (split into arguments).
        split = for_detector and field in ("query", "body")
        key = field_key(field)
        slot = self.slots.slot(("field", key, split), lambda: self._reader(field, split))
        # One slot per prefix of the chain: url_decode_uni is computed once for the ten rules whose
        # chains start with it.
        for depth in range(1, len(spec.transforms) + 1):
            names = tuple(spec.transforms[:depth])
            slot = self.slots.slot(("tx", key, split, names), _transformed(slot, names[-1]))
        return slot

    def headers_slot(self) -> int:
        """The slot of the headers as {name: values in order}."""
        return self.slots.slot(("headers",), lambda: FromRequest(lambda r: header_index(r.headers)))

    def _reader(self, field: FieldToMatch, split: bool) -> Recipe:
        if isinstance(field, QueryArgField):
            # Ten query_arg rules on ten names parse the query once, into a name -> values index.
            wanted = field.query_arg.lower()
            return FromSlot(self.query_args_slot(), lambda args: args.get(wanted, ()), key=wanted)
        if isinstance(field, HeaderField):
            name = field.header
            return FromSlot(self.headers_slot(), lambda headers: headers.get(name, ()), key=name)
        if field == "cookies":
            return FromSlot(self.headers_slot(), lambda headers: cookie_crumbs(headers.get("cookie", ())))
        return FromRequest(extractor(field, for_detector=split), empty_source(field, for_detector=split))

    def query_args_slot(self) -> int:
        """The slot of the query as {lower-case decoded name: raw values in order}."""
        return self.slots.slot(("query_args",), lambda: FromRequest(lambda r: query_index(r.query)))

    def detection_slot(self, spec: FieldStatement, kind: str) -> int:
        """The slot of the first detection of `kind` (sqli/xss) in `spec`'s values: (index, value, why)."""
        values = self.values_slot(spec, for_detector=True)
        sensitivity = getattr(spec, "sensitivity", "")
        key = (kind, sensitivity, values)
        high = sensitivity == "high"
        detect = _sqli_detector(high) if kind == "sqli" else detect_xss
        screen = suspect_pattern(high=high) if kind == "sqli" else XSS_SUSPECT
        # Memoised per value across slots: the core body rule and a json_values rule see the same strings.
        memo_key = (kind, sensitivity)
        return self.slots.slot(
            key,
            lambda: Detection(
                values,
                lambda found, memo: _first_detection(found, detect, memo),
                memo_key,
                screen,
                lowered=True,
            ),
        )

    def client_slot(self, forwarded: ForwardedIp | None) -> int:
        """The slot holding the client addresses (peer address, or from a forwarded header)."""
        if forwarded is None:
            return self.slots.slot(("client",), lambda: FromRequest(_peer))
        header, position = forwarded.header, forwarded.position
        return self.slots.slot(
            ("forwarded", header, position),
            lambda: FromRequest(lambda r: forwarded_ips(r.header_values(header), position)),
        )

    def _field(self, spec: FieldStatement, predicate: Predicate, detail: str) -> Matcher:
        slot = self.values_slot(spec, for_detector=False)
        label = labeller(spec.field)
        cut_off, oversize = _oversize(spec)

        def match(view: RequestView) -> Match | None:
            if cut_off and view.request.body_truncated:
                return oversize
            values: FieldValues = view.get(slot)
            for value in values:
                if predicate(value):
                    return Match(label(view.request, values.index(value)), value, detail)
            return None

        return match

    def _contains(self, spec: ByteMatch) -> Matcher:
        """byte_match `contains` inlined: the commonest rule, worth one call less per value."""
        slot = self.values_slot(spec, for_detector=False)
        label, needle = labeller(spec.field), spec.search
        cut_off, oversize = _oversize(spec)

        def match(view: RequestView) -> Match | None:
            if cut_off and view.request.body_truncated:
                return oversize
            values: FieldValues = view.get(slot)
            for value in values:
                if needle in value:
                    return Match(label(view.request, values.index(value)), value, "")
            return None

        return match

    def _detector(self, spec: FieldStatement, kind: str) -> Matcher:
        result = self.detection_slot(spec, kind)
        label = labeller(spec.field)
        cut_off, oversize = _oversize(spec)

        def match(view: RequestView) -> Match | None:
            if cut_off and view.request.body_truncated:
                return oversize
            found: tuple[int, str, str] | None = view.get(result)
            if found is None:
                return None
            index, value, why = found
            return Match(label(view.request, index), value, f"{kind} {why}")

        return match

    def _ip_set(self, statement: IpSetStatement) -> Matcher:
        networks = CidrSet(statement.ip_set.cidrs)
        return self._address_match(statement.ip_set.forwarded_ip, networks.__contains__, "ip_set")

    def _geo(self, statement: GeoMatchStatement) -> Matcher:
        countries, lookup = frozenset(statement.geo_match.countries), self.geo.country
        return self._address_match(statement.geo_match.forwarded_ip, lambda k: lookup(k) in countries, "geo")

    def _address_match(
        self, forwarded: ForwardedIp | None, test: Callable[[IpKey], bool], detail: str
    ) -> Matcher:
        slot = self.client_slot(forwarded)
        label = "client_ip" if forwarded is None else f"header:{forwarded.header}"
        fallback = (
            Match(label, "(no valid address)", detail)
            if forwarded and forwarded.fallback == "match"
            else None
        )

        def match(view: RequestView) -> Match | None:
            keys: list[IpKey] = view.get(slot)
            if not keys:
                return fallback
            for key in keys:
                if test(key):
                    return Match(label, _ip_text(key), detail)
            return None

        return match


def _transformed(previous: int, name: Transform) -> Callable[[], Recipe]:
    return lambda: FromSlot(previous, transform_all(name), name)


def _oversize(spec: FieldStatement) -> tuple[bool, Match | None]:
    """Whether a cut-off body decides alone, and how: "match" treats a body too big to inspect as a hit."""
    if spec.field not in BODY_FIELDS or spec.oversize == "continue":
        return False, None
    return True, (Match(str(spec.field), "(oversize)", "oversize") if spec.oversize == "match" else None)


def _peer(request: WafRequest) -> list[IpKey]:
    key = parse_ip(request.client_ip)
    return [key] if key is not None else []


def _ip_text(key: IpKey) -> str:
    version, number = key
    if version == 4:  # str(IPv4Address) costs ~2 µs, most of a matching geo_match count rule
        return f"{number >> 24}.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    return str(ipaddress.IPv6Address(number))


def _sqli_detector(high: bool) -> Callable[[str], str | None]:
    return lambda value: detect_sqli(value, high=high)


def _first_detection(
    values: FieldValues, detect: Callable[[str], str | None], memo: dict[str, str | None]
) -> tuple[int, str, str] | None:
    for index, value in enumerate(values):
        if value in memo:
            why = memo[value]
        else:
            why = memo[value] = detect(value)
        if why is not None:
            return index, value, why
    return None


def _byte_predicate(spec: ByteMatch) -> Predicate:
    needle = spec.search
    if spec.position == "exactly":
        return lambda v: v == needle
    if spec.position == "starts_with":
        return lambda v: v.startswith(needle)
    if spec.position == "ends_with":
        return lambda v: v.endswith(needle)
    if spec.position == "contains":
        return lambda v: needle in v
    # contains_word: bounded by a non-word character or the end on both sides, as in the cloud WAF.
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(needle)}(?![A-Za-z0-9_])")
    return lambda v: needle in v and word.search(v) is not None


def _label_match(label: str, namespace: bool) -> Matcher:
    if namespace:
        prefix = label if label.endswith(":") else label + ":"
        return lambda view: (
            Match("label", prefix, "") if any(lb.startswith(prefix) for lb in view.labels) else None
        )
    return lambda view: Match("label", label, "") if label in view.labels else None


def _all(children: list[Matcher]) -> Matcher:
    def match(view: RequestView) -> Match | None:
        best: Match | None = None
        for child in children:
            found = child(view)
            if found is None:
                return None
            if best is None or not best.field:
                best = found
        return best

    return match


def _any(children: list[Matcher]) -> Matcher:
    def match(view: RequestView) -> Match | None:
        for child in children:
            found = child(view)
            if found is not None:
                return found
        return None

    return match


def _negate(child: Matcher) -> Matcher:
    return lambda view: NO_FIELD if child(view) is None else None
