"""Compile a rate_based statement: count requests per aggregation key, match while over the limit."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Final, Protocol

from originguard.config.waf import ForwardedIp, HeaderField, RateBased, RateKey, Statement
from originguard.waf.fields import Matcher, RequestView
from originguard.waf.rate import RateState
from originguard.waf.request import Match, WafRequest


class Compiler(Protocol):
    """What a rate-based rule needs of the compiler that calls it (`statements.StatementCompiler`).

    A protocol, not an import: the statement compiler calls into this module for rate-based
    statements, so importing it back would close a circle.
    """

    def compile(self, statement: Statement, rule_id: str) -> Matcher: ...

    def client_slot(self, forwarded: ForwardedIp | None) -> int: ...


KeyPart = Callable[[RequestView], str | None]
# A rule that reads only the request, run by the generated evaluator without building a `RequestView`.
Direct = Callable[[WafRequest, float, RateState], Match | None]
RequestKeyPart = Callable[[WafRequest], str | None]


def compile_rate_based(spec: RateBased, rule_id: str, compiler: Compiler) -> Matcher:
    """A matcher that counts every request in scope and matches while its key is over `spec.limit`."""
    counter = rate_counter(spec, rule_id)
    if counter is not None:
        return lambda view: counter(view.request, view.now, view.rate)
    assert spec.scope_down is not None or "forwarded_ip" in spec.keys
    scope = compiler.compile(spec.scope_down, rule_id) if spec.scope_down is not None else None
    parts = tuple(_key_part(key, spec, compiler) for key in spec.keys)
    limit, window, label = float(spec.limit), spec.window, _label(spec)

    def match(view: RequestView) -> Match | None:
        if scope is not None and scope(view) is None:
            return None
        values: list[str] = []
        for part in parts:
            value = part(view)
            if value is None:
                return None  # a request without the key (no such header) is not counted, as in the cloud WAF
            values.append(value)
        key = tuple(values)
        estimate = view.rate.hit((rule_id, key), window, view.now)
        if estimate > limit:
            return Match(label, " ".join(key), f"rate {estimate:.0f}>{spec.limit}/{window:g}s")
        return None

    return match


def rate_counter(spec: RateBased, rule_id: str) -> Direct | None:
    """The rule as a function of the request alone, or None when it needs slots (scope-down, forwarded_ip)."""
    if spec.scope_down is not None or "forwarded_ip" in spec.keys:
        return None
    limit, window, label = float(spec.limit), spec.window, _label(spec)
    if spec.keys == ["ip"]:
        return AddressCounter(rule_id, window, limit, label, spec.limit)
    names = [_ATTRIBUTES[key] for key in spec.keys if isinstance(key, str) and key in _ATTRIBUTES]
    if len(names) == len(spec.keys) > 1:
        # Address, path, method: the key tuple in one C call (attrgetter), not a loop of lambdas.
        read = attrgetter(*names)

        def count_attributes(request: WafRequest, now: float, rate: RateState) -> Match | None:
            key: tuple[str, ...] = read(request)
            estimate = rate.hit((rule_id, key), window, now)
            if estimate > limit:
                return Match(label, " ".join(key), f"rate {estimate:.0f}>{spec.limit}/{window:g}s")
            return None

        return count_attributes
    parts = tuple(_request_key_part(key) for key in spec.keys)

    def count(request: WafRequest, now: float, rate: RateState) -> Match | None:
        values: list[str] = []
        for part in parts:
            value = part(request)
            if value is None:
                return None  # a request without the key (no such header) is not counted, as in the cloud WAF
            values.append(value)
        key = tuple(values)
        estimate = rate.hit((rule_id, key), window, now)
        if estimate > limit:
            return Match(label, " ".join(key), f"rate {estimate:.0f}>{spec.limit}/{window:g}s")
        return None

    return count


class AddressCounter:
    """The common rule, run on every request (the edge's default ACL): one counter per client address.

    `codegen` writes its count into the evaluator (a dict lookup and an increment in `RateState.hit`);
    a call is what the rule-by-rule walk makes.
    """

    __slots__ = ("_configured", "label", "limit", "rule_id", "window")

    def __init__(self, rule_id: str, window: float, limit: float, label: str, configured: int) -> None:
        self.rule_id = rule_id
        self.window = window
        self.limit = limit
        self.label = label
        self._configured = configured

    def __call__(self, request: WafRequest, now: float, rate: RateState) -> Match | None:
        address = request.client_ip
        estimate = rate.hit((self.rule_id, (address,)), self.window, now)
        return self.over(address, estimate) if estimate > self.limit else None

    def over(self, address: str, estimate: float) -> Match:
        """The match of an address whose estimate passed the limit."""
        return Match(self.label, address, f"rate {estimate:.0f}>{self._configured}/{self.window:g}s")


_ATTRIBUTES: Final = {"ip": "client_ip", "path": "path", "method": "method"}


def _label(spec: RateBased) -> str:
    return "rate:" + "+".join(k.header if isinstance(k, HeaderField) else k for k in spec.keys)


def _request_key_part(key: RateKey) -> RequestKeyPart:
    if isinstance(key, HeaderField):
        name = key.header
        return lambda request: next(iter(request.header_values(name)), None)
    if key == "ip":
        return lambda request: request.client_ip
    if key == "path":
        return lambda request: request.path
    if key == "method":
        return lambda request: request.method
    assert key != "forwarded_ip", "forwarded_ip reads a slot: rules keyed by it are not direct"
    return lambda request: ""  # constant: one counter for every request in scope


def _key_part(key: RateKey, spec: RateBased, compiler: Compiler) -> KeyPart:
    if key == "forwarded_ip":
        slot = compiler.client_slot(spec.forwarded_ip or ForwardedIp())

        def forwarded(view: RequestView) -> str | None:
            found = view.get(slot)
            return f"{found[0][0]}:{found[0][1]}" if found else None

        return forwarded
    part = _request_key_part(key)
    return lambda view: part(view.request)
