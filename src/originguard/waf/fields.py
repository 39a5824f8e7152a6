# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Per-request lazy cache of fields, transformed fields and detector results, shared by every rule.

At compile time each distinct (field, transforms) pair, detector run or client-address source gets a
slot number and a *recipe* (read it from the request, or derive it from another slot); at evaluation a
`RequestView` fills a slot the first time a rule asks for it. So ten rules on the url-decoded query
decode it once, and a request no rule inspects the body of never parses it. The recipes are plain data
so that `codegen` can also compute slots into local variables of a generated function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Final, Literal

from originguard.config.waf import FieldToMatch, HeaderField, QueryArgField, Transform
from originguard.waf.body import body_parts, body_text, json_strings
from originguard.waf.rate import RateState
from originguard.waf.request import (
    FieldValues,
    Match,
    WafRequest,
    cookie_values,
    query_pairs,
    query_parts,
    query_values,
)

SlotFn = Callable[["RequestView"], Any]
# A compiled statement: what it found in a request's view, or None. Here, below `statements` and
# `ratelimit`, which both build them.
Matcher = Callable[["RequestView"], Match | None]
LabelFn = Callable[[WafRequest, int], str]
UNSET: Final = object()  # a slot not computed yet
BODY_FIELDS: Final = frozenset({"body", "json_body", "json_keys", "json_values"})


class RequestView:
    """One request under evaluation: its slots, labels and counted rules so far, the clock, the rate state."""

    __slots__ = ("_fns", "_memos", "cache", "counted", "labels", "now", "rate", "request")

    def __init__(
        self,
        request: WafRequest,
        fns: tuple[SlotFn, ...],
        now: float,
        rate: RateState,
        cache: list[Any] | None = None,
    ) -> None:
        self.request = request
        self.now = now
        self.rate = rate
        self.labels: set[str] = set()
        self.counted: list[str] = []  # names of the count rules that matched, in order
        self._fns = fns
        # Public so that the generated evaluator (`codegen`), which fills slots before any rule needs a
        # view, can hand over the slots it computed.
        self.cache: list[Any] = [UNSET] * len(fns) if cache is None else cache
        self._memos: dict[Hashable, dict[str, Any]] | None = None

    def get(self, slot: int) -> Any:
        """The value of `slot`, computed on first use."""
        value = self.cache[slot]
        if value is UNSET:
            value = self.cache[slot] = self._fns[slot](self)
        return value

    def memo(self, key: Hashable) -> dict[str, Any]:
        """A per-request memo of results by value, named by `key` (a detector and its settings)."""
        if self._memos is None:
            self._memos = {}
        found = self._memos.get(key)
        if found is None:
            found = self._memos[key] = {}
        return found


@dataclass(frozen=True, slots=True)
class FromRequest:
    """A slot read from the request alone; `()`, without calling `read`, when `request.<empty_unless>` is."""

    read: Callable[[WafRequest], Any]
    empty_unless: Literal["query", "body"] | None = None


@dataclass(frozen=True, slots=True)
class FromSlot:
    """A slot computed from slot `source`; `transform` names it when `derive` is that transform."""

    source: int
    derive: Callable[[Any], Any]
    transform: Transform | None = None
    key: str | None = None  # `derive` is `values.get(key, ())` on a dict slot: `codegen` writes it out


@dataclass(frozen=True, slots=True)
class Detection:
    """The first detection in the values of slot `source`, memoised per value under `memo`."""

    source: int
    find: Callable[[FieldValues, dict[str, Any]], Any]
    memo: Hashable
    # Fails on the values joined by a newline or another ASCII non-word character (lower-cased first if
    # `lowered`) only if `find` finds nothing.
    screen: re.Pattern[str]
    lowered: bool


Recipe = FromRequest | FromSlot | Detection


class SlotTable:
    """Compile-time registry that gives equal computations the same slot."""

    def __init__(self) -> None:
        self.recipes: list[Recipe] = []
        self._index: dict[Hashable, int] = {}

    def slot(self, key: Hashable, make: Callable[[], Recipe]) -> int:
        """The slot of `key`, registering `make()` the first time."""
        found = self._index.get(key)
        if found is None:
            recipe = make()  # first: making it may register the slots it reads
            found = self._index[key] = len(self.recipes)
            self.recipes.append(recipe)
        return found

    def fns(self) -> tuple[SlotFn, ...]:
        """The slot functions a `RequestView` calls, one per recipe."""
        return tuple(_slot_fn(recipe) for recipe in self.recipes)


def _slot_fn(recipe: Recipe) -> SlotFn:
    if isinstance(recipe, FromRequest):
        read = recipe.read
        return lambda view: read(view.request)
    if isinstance(recipe, FromSlot):
        source, derive = recipe.source, recipe.derive
        return lambda view: derive(view.get(source))
    source, find, memo = recipe.source, recipe.find, recipe.memo
    return lambda view: find(view.get(source), view.memo(memo))


def field_key(field: FieldToMatch) -> Hashable:
    """A hashable name of a field to match (models are hashable, but this reads better in slot keys)."""
    if isinstance(field, HeaderField):
        return ("header", field.header)
    if isinstance(field, QueryArgField):
        return ("query_arg", field.query_arg.lower())
    return field


def extractor(field: FieldToMatch, *, for_detector: bool) -> Callable[[WafRequest], FieldValues]:
    """How to read `field` from a request; detectors read query and body split into arguments."""
    if isinstance(field, HeaderField):
        name = field.header
        return lambda r: r.header_values(name)
    if isinstance(field, QueryArgField):
        wanted = field.query_arg.lower()
        return lambda r: tuple(v for n, v in query_pairs(r.query) if n.lower() == wanted)
    if field == "query" and for_detector:
        return lambda r: query_parts(r.query)
    if field == "body" and for_detector:
        return body_parts
    return _SIMPLE[field]


def empty_source(field: FieldToMatch, *, for_detector: bool) -> Literal["query", "body"] | None:
    """The request attribute without which `extractor(field)` gives `()`: the evaluator tests it first."""
    if field == "all_query_args" or (field == "query" and for_detector):
        return "query"
    if field in BODY_FIELDS:
        return "body"
    return None


def labeller(field: FieldToMatch) -> LabelFn:
    """How a match on element `index` of `field` is named in verdicts and logs."""
    if isinstance(field, HeaderField):
        label = f"header:{field.header}"
        return lambda _r, _i: label
    if isinstance(field, QueryArgField):
        label = f"query_arg:{field.query_arg}"
        return lambda _r, _i: label
    if field == "all_headers":
        # The exact header, so that a log can tell a secret header's value and redact it.
        return lambda r, i: f"header:{r.headers[i][0]}" if i < len(r.headers) else "all_headers"
    name = str(field)
    return lambda _r, _i: name


def _body(request: WafRequest) -> FieldValues:
    return (body_text(request),) if request.body else ()


def _json(keys: bool, values: bool) -> Callable[[WafRequest], FieldValues]:
    def extract(request: WafRequest) -> FieldValues:
        if not request.body:
            return ()
        found = json_strings(request, keys=keys, values=values)
        # A body that is not JSON is inspected as plain text (the cloud WAF's EVALUATE_AS_STRING).
        return found if found is not None else (body_text(request),)

    return extract


_SIMPLE: Final[dict[str, Callable[[WafRequest], FieldValues]]] = {
    "method": lambda r: (r.method,),
    "path": lambda r: (r.path,),
    "query": lambda r: (r.query,),
    "all_query_args": lambda r: query_values(r.query),
    "all_headers": lambda r: tuple([v for _, v in r.headers]),
    "header_names": lambda r: tuple([n for n, _ in r.headers]),
    "cookies": cookie_values,
    "body": _body,
    "json_body": _json(True, True),
    "json_keys": _json(True, False),
    "json_values": _json(False, True),
}
